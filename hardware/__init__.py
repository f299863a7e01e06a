"""SpiNNaker hardware as data: board profiles (SpiNN-3, SpiNN-5), the sPyNNaker configuration
template, pre-flight checks that refuse or warn about a network before sPyNNaker maps it
(``check``), and a per-population resource estimate (cores, chips, SDRAM, delay-extension cores)
that needs no sPyNNaker installed. See docs/spinnaker.md."""
from .boards import BoardProfile, config_template, load_board, render_config
from .limits import Finding, PreflightReport, check, preflight
from .resources import ResourceEstimate, estimate

__all__ = ["BoardProfile", "load_board", "config_template", "render_config", "preflight", "PreflightReport",
           "check", "Finding", "estimate", "ResourceEstimate"]
