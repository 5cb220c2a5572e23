"""The `.ehm` model blob: one format for the host tools and the firmware (docs/model-format.md).

    from edgehost.blob import read, Model, Layer, Tensor, BlobError
    model = read(open("m.ehm", "rb").read())
    data = model.to_bytes()
"""
from . import format  # noqa: F401
from .model import BlobError, Layer, Model, Tensor, crc32, fnv1a32, lifetimes, read  # noqa: F401
