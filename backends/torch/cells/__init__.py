"""Cell lowerings of the torch backend; importing this package registers them (registry.py)."""
from . import eif_cond_exp, fixed_lif, if_cond_alpha, if_cond_exp, if_curr_alpha, if_curr_delta, if_curr_exp, izhikevich  # noqa: F401
