"""SpiNNaker hardware as data: board profiles (SpiNN-3, SpiNN-5), the sPyNNaker configuration
template, and pre-flight limit checks that refuse a network before sPyNNaker maps it."""
from .boards import BoardProfile, config_template, load_board, render_config
from .limits import PreflightReport, preflight

__all__ = ["BoardProfile", "load_board", "config_template", "render_config", "preflight", "PreflightReport"]
