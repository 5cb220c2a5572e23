"""b1 tensors on the host side: 0/1 entries <-> packed 32-bit words (bit i of word w is entry
32 w + i; padding bits 0), the layout of `eh_binary.h` and of the blob's b1 tensors.

A model whose input is b1 (event data: `edgehost convert --spike-input`) takes its rows either as
packed words (steps, ceil(n / 32)) or as 0/1 entries (steps, n): `as_b1_rows` packs the latter."""
from __future__ import annotations

import numpy as np


def words(n: int) -> int:
    return (int(n) + 31) // 32


def pack_rows(bits, n: int) -> np.ndarray:
    """(..., n) entries 0/1 (any integer, bool or float dtype holding only 0 and 1) ->
    (..., ceil(n/32)) uint32 words. ValueError for another value or another last dimension."""
    b = np.asarray(bits)
    if b.ndim == 0 or b.shape[-1] != n:
        raise ValueError(f"{b.shape}: expected (..., {n}) entries 0/1")
    if b.dtype != np.bool_:
        if b.dtype.kind not in "biuf" or np.any((b != 0) & (b != 1)):
            raise ValueError("b1 entries must be 0 or 1 (1: a set bit, i.e. a spike)")
        b = b != 0
    pad = words(n) * 32 - n
    if pad:
        b = np.concatenate([b, np.zeros(b.shape[:-1] + (pad,), np.bool_)], axis=-1)
    by = np.packbits(b, axis=-1, bitorder="little")          # bit i of byte k: entry 8 k + i
    return np.ascontiguousarray(by).view("<u4").astype(np.uint32)


def unpack_rows(w, n: int) -> np.ndarray:
    """(..., ceil(n/32)) words -> (..., n) uint8 0/1."""
    a = np.ascontiguousarray(np.asarray(w, dtype="<u4"))
    return np.unpackbits(a.view(np.uint8), axis=-1, bitorder="little")[..., :n]


def as_b1_rows(x, n: int) -> np.ndarray:
    """Rows for a b1 input of n entries: packed words as they are (last dimension ceil(n/32)),
    0/1 entries (last dimension n) packed. When both sizes are equal (n == 1) the two readings are
    the same bit."""
    x = np.asarray(x)
    if x.ndim and x.shape[-1] == n and n != words(n):
        return pack_rows(x, n)
    return x
