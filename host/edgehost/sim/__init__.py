"""Numpy reference of every kernel: the twin of `edgehost.kernels`, written from the maths.

Every function here has a C twin of the same name in `edgehost.kernels`.
"""
from .lif import (  # noqa: F401
    cubalif_step_f32, cubalif_step_q15, lif_adapt_step_f32, lif_adapt_step_q15, lif_step_f32,
    lif_step_q15,
)
