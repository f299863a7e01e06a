"""sPyNNaker specifics: the run directory and its configuration, and resources from the mapping.

sPyNNaker reads ``./spynnaker.cfg`` from the directory it runs in, on top of a user file
``~/.spynnaker.cfg``; when it finds no user file it *writes one into the home directory* and stops.
neuromorph never lets that happen silently: it writes the configuration into a run directory,
runs sPyNNaker with that directory as the working directory, and, only when the user has no
configuration of their own, points HOME at the run directory for the duration of the call so
sPyNNaker finds the run's copy there instead of creating one in the real home.
"""
from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

from neuromorph.errors import ValidationError

CFG_NAME = "spynnaker.cfg"


def user_config() -> Path | None:
    """The user's own sPyNNaker configuration, where sPyNNaker looks for it (None if absent)."""
    home = Path(os.path.expanduser("~"))
    candidates = [home / ".spynnaker.cfg"]
    xdg = os.environ.get("XDG_CONFIG_HOME")
    candidates.append(Path(xdg) / ".spynnaker.cfg" if xdg else home / ".config" / ".spynnaker.cfg")
    return next((c for c in candidates if c.is_file()), None)


def prepare_run_dir(run_dir=None, board: str | int = 5, machine_name: str | None = None,
                    spalloc_server: str | None = None, spalloc_user: str | None = None,
                    spalloc_port: int | None = None, n_boards: int | None = None) -> Path:
    """Create the run directory and write its ``spynnaker.cfg``: a virtual board of the given
    version unless a ``machine_name`` (a physical board's host) or ``spalloc_server`` (a
    spalloc-managed machine; ``spalloc_port``, ``spalloc_user``, ``n_boards``) is given."""
    from neuromorph.hardware import load_board, render_config
    profile = load_board(board)
    # absolute: in_run_dir changes into it and then opens files under it
    path = (Path(run_dir) if run_dir is not None else Path(tempfile.mkdtemp(prefix="neuromorph-spinnaker-"))).resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ValidationError(f"pynn:spinnaker: cannot create run directory {str(path)!r} ({exc.strerror}); give a writable run_dir") from None
    virtual = not (machine_name or spalloc_server)
    text = render_config(virtual_board=virtual, version=profile.spinnaker_version, machine_name=machine_name,
                         spalloc_server=spalloc_server, spalloc_user=spalloc_user, spalloc_port=spalloc_port,
                         n_boards=n_boards, report_dir=str(path.resolve()))
    (path / CFG_NAME).write_text(text, encoding="utf-8")
    return path


@contextlib.contextmanager
def in_run_dir(path: Path):
    """Run sPyNNaker calls with ``path`` as working directory (and HOME, if the user has no cfg).
    sPyNNaker's progress bars go to ``spynnaker.log`` in the run directory instead of the
    terminal; errors still surface as exceptions."""
    old_cwd = os.getcwd()
    old_home = os.environ.get("HOME")
    redirect_home = user_config() is None
    if redirect_home:
        # sPyNNaker insists on a "user" file; give it the run's own, in the run directory
        (path / ".spynnaker.cfg").write_text((path / CFG_NAME).read_text(encoding="utf-8"), encoding="utf-8")
        os.environ["HOME"] = str(path.resolve())
    os.chdir(path)
    try:
        with open(path / "spynnaker.log", "a", encoding="utf-8") as log, \
                contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            yield
    finally:
        os.chdir(old_cwd)
        if redirect_home:
            if old_home is None:
                os.environ.pop("HOME", None)
            else:
                os.environ["HOME"] = old_home


def resources(labels: set[str]) -> dict:
    """Chips, cores, SDRAM per core and routing entries from sPyNNaker's own mapping (call after
    a run, before ``end()``). Cores of the network's populations are listed by label; system
    cores (monitors, gatherers) are counted separately."""
    from pacman.model.graphs.machine import MachineVertex
    from spynnaker.pyNN.data import SpynnakerDataView as View

    n_steps = View.get_plan_n_timestep()
    cores, system = [], 0
    chips = set()
    for pl in View.iterate_placements_by_vertex_type(MachineVertex):
        v = pl.vertex
        app = getattr(v, "app_vertex", None)
        app_label = getattr(app, "label", None)
        if app_label is None or app_label not in labels and not any(app_label.startswith(l) for l in labels):
            system += 1
            continue
        try:
            sdram = int(v.sdram_required.get_total_sdram(n_steps))
        except Exception:  # some vertices need a plan size; report what is known
            sdram = None
        chips.add((pl.x, pl.y))
        cores.append({"population": app_label, "vertex": v.label, "chip": [pl.x, pl.y], "core": pl.p,
                      "atoms": int(getattr(v.vertex_slice, "n_atoms", 0)) if hasattr(v, "vertex_slice") else None,
                      "sdram_bytes": sdram})
    tables = View.get_uncompressed()
    entries = {f"{t.x},{t.y}": int(t.number_of_entries) for t in tables.routing_tables}
    machine = View.get_machine()
    return {
        "board_version": View.get_machine_version().number,
        "chips_available": int(machine.n_chips),
        "chips_used": len(chips),
        "cores_network": len(cores),
        "cores_system": system,
        "cores": cores,
        "sdram_per_core_bytes": {c["vertex"]: c["sdram_bytes"] for c in cores},
        "routing_entries_total": int(sum(entries.values())),
        "routing_entries_max_per_chip": int(max(entries.values(), default=0)),
        "routing_entries_per_chip": entries,
        "timesteps_planned": int(n_steps) if n_steps is not None else None,
    }
