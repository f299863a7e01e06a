"""Capability tables as data: construct -> native / emulated (how) / unsupported (why).

Each backend publishes ``capabilities(variant, numerics) -> dict[str, Capability]``. The keys are
the construct names that ``required_constructs(net)`` derives from a network, so a build can refuse
an unsupported construct with a message that names it, and the parity suite can skip with the
reason.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal



from .errors import UnsupportedError

Status = Literal["native", "emulated", "unsupported"]


@dataclass(frozen=True)
class Capability:
    status: Status
    how: str = ""  # how it is emulated, or why it is unsupported

    @property
    def supported(self) -> bool:
        return self.status != "unsupported"


def native(how: str = "") -> Capability:
    return Capability("native", how)


def emulated(how: str) -> Capability:
    return Capability("emulated", how)


def unsupported(why: str) -> Capability:
    return Capability("unsupported", why)


def required_constructs(net, batch: int = 1) -> list[str]:
    """The construct keys a network needs, in a stable order."""
    need: list[str] = []

    def add(key):
        if key not in need:
            need.append(key)

    for pop in net.populations.values():
        ct = pop.celltype
        name = type(ct).__name__
        add(f"{name}(weight_units={ct.weight_units})" if name == "IF_curr_delta" else name)
        if name == "SpikeSourceArray" and any(row and row[0] == 0.0 for row in ct.spike_times):
            add("spike at t=0")
    for proj in net.projections.values():
        add(type(proj.connector).__name__)
        conn = net.connectivity(proj)
        if conn.size and len(conn.distinct_delays) > 1:
            add("heterogeneous delays")
        st = proj.plasticity
        if st is not None:
            kind = type(st).__name__
            if kind == "STDP":
                add(f"STDP:{type(st.timing).__name__}")
                add(f"STDP:{type(st.weight).__name__}")
                if st.weight.w_min > 0:
                    add("STDP:w_min>0")
                if st.timing.A_minus < 0 or st.timing.A_plus < 0:
                    add("STDP:negative amplitude")
                if proj.receptor == "inhibitory":
                    add("STDP:inhibitory")
            else:
                add(kind)
    for rec in net.recordings:
        for v in rec.variables:
            add(f"record:{v}")
    for ext in net.extensions:
        add(type(ext).__name__)
        for key in getattr(ext, "construct_keys", lambda _net: ())(net):  # e.g. Astrocytes:<coupling>
            add(key)
    if batch > 1:
        add("batch>1")
    return need


def check_supported(net, table: dict[str, Capability], backend: str, batch: int = 1) -> None:
    """Raise UnsupportedError naming the first construct the backend cannot run."""
    for key in required_constructs(net, batch):
        cap = table.get(key)
        if cap is None:
            raise UnsupportedError(f"{key} is not known to backend {backend!r}; it cannot run this network")
        if not cap.supported:
            raise UnsupportedError(f"{key} is unsupported on backend {backend!r}: {cap.how}")


def format_table(table: dict[str, Capability]) -> str:
    width = max((len(k) for k in table), default=10)
    lines = []
    for key, cap in table.items():
        lines.append(f"  {key:<{width}}  {cap.status:<11}  {cap.how}".rstrip())
    return "\n".join(lines)


