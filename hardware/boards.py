"""SpiNNaker board profiles as data (``spinn3.json``, ``spinn5.json``) and the sPyNNaker
configuration template (``spynnaker.cfg``).

A profile lists what pre-flight checks and resource reports need: chips, cores per chip, SDRAM per
chip [bytes], router entries per chip, the default neurons per core and the longest synaptic row
[synapses] sPyNNaker 7.4.1 accepts. Every number carries its source in the file's ``sources``.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources

from neuromorph.errors import ValidationError

#: board name (case-insensitive, with or without the dash) -> data file
BOARD_FILES = {"spinn-3": "spinn3.json", "spinn-5": "spinn5.json"}
#: sPyNNaker "version" numbers -> board name
VERSION_BOARDS = {3: "spinn-3", 5: "spinn-5"}


@dataclass(frozen=True)
class BoardProfile:
    """One SpiNNaker board type. Sizes in bytes; ``clock_hz`` in Hz."""

    name: str
    spinnaker_version: int
    chips: int
    board_shape: tuple[int, int]
    cores_per_chip: int
    monitor_cores_per_chip: int
    sdram_bytes_per_chip: int
    dtcm_bytes_per_core: int
    router_entries_per_chip: int
    clock_hz: int
    neurons_per_core_default: int
    max_row_words: int
    max_static_synapses_per_row: int
    max_plastic_synapses_per_row: int
    stdp_timestep_ms: float
    description: str = ""

    @property
    def application_cores(self) -> int:
        """Cores left for user code on the whole board (the monitor core of each chip excluded)."""
        return self.chips * (self.cores_per_chip - self.monitor_cores_per_chip)


def _normalise(name) -> str:
    if isinstance(name, int) or (isinstance(name, str) and name.isdigit()):
        key = VERSION_BOARDS.get(int(name))
    else:
        key = str(name).lower().replace("_", "-")
        if key in ("spinn3", "spinn5"):
            key = key[:5] + "-" + key[5:]
    if key not in BOARD_FILES:
        raise ValidationError(
            f"board {name!r} is not known; choose one of SpiNN-3, SpiNN-5 (or sPyNNaker version 3 or 5)")
    return key


def load_board(name="SpiNN-5") -> BoardProfile:
    """The profile of a board by name (``"SpiNN-3"``, ``"SpiNN-5"``) or sPyNNaker version (3, 5)."""
    key = _normalise(name)
    text = resources.files(__package__).joinpath(BOARD_FILES[key]).read_text(encoding="utf-8")
    data = json.loads(text)
    fields = {k: v for k, v in data.items() if k in BoardProfile.__dataclass_fields__}
    fields["board_shape"] = tuple(fields["board_shape"])
    return BoardProfile(**fields)


def config_template() -> str:
    """The text of the ``spynnaker.cfg`` template (fields in braces, see the file's header)."""
    return resources.files(__package__).joinpath("spynnaker.cfg").read_text(encoding="utf-8")


def render_config(*, virtual_board: bool, version: int, machine_name: str | None = None,
                  spalloc_server: str | None = None, spalloc_user: str | None = None,
                  report_dir: str = "DEFAULT", mode: str = "Production") -> str:
    """Fill the template. A real board needs ``machine_name`` (its host) or ``spalloc_server``."""
    if version not in VERSION_BOARDS:
        raise ValidationError(f"spynnaker.cfg: version={version!r} is not a SpiNNaker 1 board; use 3 (SpiNN-3) or 5 (SpiNN-5)")
    if not virtual_board and not (machine_name or spalloc_server):
        raise ValidationError(
            "spynnaker.cfg: a real board needs machine_name='<host>' or spalloc_server='<url>'; or use virtual_board=True")
    for label, value in (("machine_name", machine_name), ("spalloc_server", spalloc_server),
                         ("spalloc_user", spalloc_user), ("report_dir", report_dir)):
        if value is not None and ("\n" in str(value) or "\r" in str(value)):
            raise ValidationError(f"spynnaker.cfg: {label}={value!r} contains a line break")
    lines = [line for line in config_template().splitlines() if not line.startswith("#")]
    body = "\n".join(lines).strip() + "\n"
    return body.format(virtual_board=bool(virtual_board), version=int(version),
                       machine_name=machine_name or "None", spalloc_server=spalloc_server or "None",
                       spalloc_user=spalloc_user or "None", report_dir=report_dir, mode=mode)
