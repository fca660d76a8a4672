"""The lossless tier: row-delta, byte-shuffle, deflate (zlib stream).

Chosen so a browser decodes it with ``new DecompressionStream("deflate")`` and a
few lines of JavaScript (``widgets/core.js`` mirrors :func:`decode_lossless`):

1. samples are laid out as planes (RGB becomes three planes, grey is one);
2. each row is replaced by differences from its left neighbour, in the unsigned
   integer of the sample's size, wrapping (like PNG's Sub filter, per sample);
3. multi-byte samples are byte-shuffled: all low bytes, then all high bytes;
4. the result is deflated with a zlib header (what "deflate" means to the browser).

Steps 2-3 turn smooth 16-bit images into long runs deflate compresses well.
"""

from __future__ import annotations

import zlib

import numpy as np

LOSSLESS_ENCODING = "planar+row-delta+byte-shuffle+deflate"
_UNSIGNED = {1: np.uint8, 2: np.uint16, 4: np.uint32}


def encode_lossless(arr: np.ndarray, level: int = 6) -> bytes:
    """Encode stored values (H, W) or (H, W, S) of 1, 2 or 4-byte integers."""
    if arr.dtype.kind not in "iu" or arr.dtype.itemsize not in _UNSIGNED:
        raise ValueError(f"lossless tier takes 8/16/32-bit integer samples, got {arr.dtype}")
    planes = arr[None] if arr.ndim == 2 else np.moveaxis(arr, -1, 0)
    unsigned = np.ascontiguousarray(planes).view(_UNSIGNED[arr.dtype.itemsize])
    delta = unsigned.copy()
    delta[..., 1:] -= unsigned[..., :-1]  # wraps in the unsigned type
    little = delta.astype(delta.dtype.newbyteorder("<"), copy=False)
    shuffled = little.view(np.uint8).reshape(-1, arr.dtype.itemsize).T
    return zlib.compress(np.ascontiguousarray(shuffled).tobytes(), level)


def decode_lossless(data: bytes, shape: tuple[int, ...], dtype: str | np.dtype) -> np.ndarray:
    """Inverse of :func:`encode_lossless`; ``shape`` is (H, W) or (H, W, S)."""
    dtype = np.dtype(dtype)
    size = dtype.itemsize
    raw = np.frombuffer(zlib.decompress(data), dtype=np.uint8)
    unshuffled = raw.reshape(size, -1).T.copy().view(np.dtype(_UNSIGNED[size]).newbyteorder("<"))
    planes_shape = (1, *shape) if len(shape) == 2 else (shape[2], shape[0], shape[1])
    delta = unshuffled.astype(_UNSIGNED[size]).reshape(planes_shape)
    values = np.cumsum(delta, axis=-1, dtype=_UNSIGNED[size])  # wrapping prefix sum undoes the delta
    values = values.view(dtype)
    return values[0] if len(shape) == 2 else np.moveaxis(values, 0, -1).copy()
