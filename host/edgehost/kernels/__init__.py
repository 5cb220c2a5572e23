"""The C kernels of kernels_c/, compiled into the package with cffi, on numpy arrays.

Every function has a numpy twin of the same name in `edgehost.sim`; the tests assert that the
two agree (bit for bit on the integer paths). A kernel that rejects its arguments raises
`KernelError` (a ValueError) carrying the C status code.
"""
from ._util import KernelError  # noqa: F401
from .lif import (  # noqa: F401
    cubalif_step_f32, cubalif_step_q15, lif_adapt_step_f32, lif_adapt_step_q15, lif_step_f32,
    lif_step_q15,
)
