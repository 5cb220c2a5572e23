"""The `.ehm` model blob: one format for the host tools and the firmware (docs/model-format.md).

    from edgehost.blob import read, Model, Layer, Tensor, BlobError
    model = read(open("m.ehm", "rb").read())
    data = model.to_bytes()

The reader core (reader.py), the writer (writer.py) and the model classes (model.py) know no
layer type: each type's rules live in its operator module (edgehost/ops/).
"""
from . import format  # noqa: F401
from .model import BlobError, Layer, Model, Tensor, crc32, fnv1a32, lifetimes  # noqa: F401
from .reader import read  # noqa: F401
