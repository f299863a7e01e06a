"""The Runge–Kutta–Fehlberg 4(5) tableau as GSL 1.15 writes it (``ode-initval/rkf45.c``, the GSL
bundled with the NEST 3.10 wheel): what NEST's ``iaf_cond_exp`` and ``astrocyte_lr_1994``
integrate with. The exact float64 values of these quotients matter for bit-identical results, so
both torch lowerings (cells/if_cond_exp.py, mechanisms/astrocyte.py) take them from here."""
from __future__ import annotations

AH = (1.0 / 4.0, 3.0 / 8.0, 12.0 / 13.0, 1.0, 1.0 / 2.0)
B3 = (3.0 / 32.0, 9.0 / 32.0)
B4 = (1932.0 / 2197.0, -7200.0 / 2197.0, 7296.0 / 2197.0)
B5 = (8341.0 / 4104.0, -32832.0 / 4104.0, 29440.0 / 4104.0, -845.0 / 4104.0)
B6 = (-6080.0 / 20520.0, 41040.0 / 20520.0, -28352.0 / 20520.0, 9295.0 / 20520.0, -5643.0 / 20520.0)
C1 = 902880.0 / 7618050.0
C3 = 3953664.0 / 7618050.0
C4 = 3855735.0 / 7618050.0
C5 = -1371249.0 / 7618050.0
C6 = 277020.0 / 7618050.0
#: error estimate coefficients (fifth minus fourth order)
EC = (1.0 / 360.0, -128.0 / 4275.0, -2197.0 / 75240.0, 1.0 / 50.0, 2.0 / 55.0)
