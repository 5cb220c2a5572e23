"""Run `.ehm` blobs on the host: the Python interpreter (backends "sim" and "kernels") and the
firmware's own C interpreter built natively (`native`)."""
from .interpreter import BACKENDS, HostModel  # noqa: F401
