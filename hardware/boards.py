"""SpiNNaker board profiles as data (``spinn3.json``, ``spinn5.json``) and the sPyNNaker
configuration template (``spynnaker.cfg``).

A profile lists what pre-flight checks and resource reports need: chips, cores per chip, SDRAM per
chip [bytes], router entries per chip, the default neurons per core and the longest synaptic row
[synapses] sPyNNaker 7.4.1 accepts. Every number carries its source in the file's ``sources``.
"""
from __future__ import annotations

import functools
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
    #: cores sPyNNaker itself places on every chip (extra monitor) and on each Ethernet chip
    #: (data-speed-up packet gatherer) with its default ``enable_advanced_monitor_support = True``
    system_cores_per_chip: int = 1
    system_cores_per_ethernet_chip: int = 1
    ethernet_chips: int = 1

    @property
    def application_cores(self) -> int:
        """Cores left for user code on the whole board (the monitor core of each chip excluded)."""
        return self.chips * (self.cores_per_chip - self.monitor_cores_per_chip)

    @property
    def cores_per_chip_for_network(self) -> int:
        """Cores of an ordinary chip sPyNNaker can place network vertices on (16 on SpiNNaker 1)."""
        return self.cores_per_chip - self.monitor_cores_per_chip - self.system_cores_per_chip

    def network_cores(self, n_boards: int = 1) -> int:
        """Cores sPyNNaker 7.4.1 can place the network on, over ``n_boards`` boards: every chip's
        cores less the monitor and the extra monitor, less a packet gatherer per Ethernet chip
        (767 per SpiNN-5, 63 per SpiNN-3)."""
        return n_boards * (self.chips * self.cores_per_chip_for_network
                           - self.ethernet_chips * self.system_cores_per_ethernet_chip)


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
    return _load(_normalise(name))


@functools.lru_cache(maxsize=None)
def _load(key: str) -> BoardProfile:
    text = resources.files(__package__).joinpath(BOARD_FILES[key]).read_text(encoding="utf-8")
    data = json.loads(text)
    fields = {k: v for k, v in data.items() if k in BoardProfile.__dataclass_fields__}
    fields["board_shape"] = tuple(fields["board_shape"])
    return BoardProfile(**fields)


def config_template() -> str:
    """The text of the ``spynnaker.cfg`` template (fields in braces, see the file's header)."""
    return resources.files(__package__).joinpath("spynnaker.cfg").read_text(encoding="utf-8")


#: the spalloc server's default port (spinn_front_end_common spinnaker.cfg ``spalloc_port``)
SPALLOC_PORT = 22244


def _check_value(label, value):
    if not value:
        return
    text = str(value)
    if any(c in text for c in "\n\r") or text != text.strip() or not text:
        raise ValidationError(f"spynnaker.cfg: {label}={value!r} must be one line without surrounding spaces")


def render_config(*, virtual_board: bool, version: int, machine_name: str | None = None,
                  spalloc_server: str | None = None, spalloc_user: str | None = None,
                  spalloc_port: int | None = None, n_boards: int | None = None,
                  report_dir: str = "DEFAULT", mode: str = "Production") -> str:
    """Fill the template. A real board needs ``machine_name`` (its host name or IP address; a
    physical SpiNN-3 or SpiNN-5) or ``spalloc_server`` (a spalloc-managed machine: SpiNN-5 boards,
    ``spalloc_port`` default 22244, ``n_boards`` to request). ``n_boards`` is not a cfg key:
    sPyNNaker takes it as ``setup(n_boards_required=...)``; it is written as a comment so the run
    folder records what was asked for."""
    if isinstance(version, bool) or version not in VERSION_BOARDS:
        raise ValidationError(f"spynnaker.cfg: version={version!r} is not a SpiNNaker 1 board; use 3 (SpiNN-3) or 5 (SpiNN-5)")
    if not virtual_board and not (machine_name or spalloc_server):
        raise ValidationError(
            "spynnaker.cfg: a real board needs machine_name='<host>' or spalloc_server='<url>'; or use virtual_board=True")
    if machine_name and spalloc_server:
        raise ValidationError(f"spynnaker.cfg: machine_name={machine_name!r} and spalloc_server={spalloc_server!r} both given; "
                              "give machine_name for a board you address directly, or spalloc_server to have one allocated")
    if spalloc_port is not None and (isinstance(spalloc_port, bool) or not isinstance(spalloc_port, int)
                                     or not 1 <= spalloc_port <= 65535):
        raise ValidationError(f"spynnaker.cfg: spalloc_port={spalloc_port!r} must be a port number 1-65535 (default {SPALLOC_PORT})")
    if n_boards is not None and (isinstance(n_boards, bool) or not isinstance(n_boards, int) or n_boards < 1):
        raise ValidationError(f"spynnaker.cfg: n_boards={n_boards!r} must be a whole number >= 1")
    if n_boards is not None and n_boards > 1 and version != 5:
        raise ValidationError(f"spynnaker.cfg: n_boards={n_boards} needs SpiNN-5 boards (version 5), not version {version}")
    if (spalloc_port is not None or (n_boards or 1) > 1) and not (spalloc_server or virtual_board):
        raise ValidationError("spynnaker.cfg: spalloc_port / n_boards > 1 need spalloc_server='<url>' (a physical board "
                              "given by machine_name is one board)")
    for label, value in (("machine_name", machine_name), ("spalloc_server", spalloc_server),
                         ("spalloc_user", spalloc_user), ("report_dir", report_dir)):
        _check_value(label, value)
    lines = [line for line in config_template().splitlines() if not line.startswith("#")]
    body = "\n".join(lines).strip() + "\n"
    boards = "" if n_boards is None else (
        f"# n_boards_required = {n_boards} (passed to sim.setup(n_boards_required={n_boards}); not a cfg key)\n")
    return body.format(virtual_board=bool(virtual_board), version=int(version),
                       machine_name=machine_name or "None", spalloc_server=spalloc_server or "None",
                       spalloc_user=spalloc_user or "None", spalloc_port=spalloc_port or SPALLOC_PORT,
                       n_boards=boards, report_dir=report_dir, mode=mode)
