"""Encode series into web frames: a lossless tier the browser decodes natively and a
small lossy preview tier, stored once in a content-addressed cache.

Importing this package loads numpy, pillow and pydicom only (no Jupyter, no server).
"""

from readingroom.frames.cache import FrameCache, default_cache_dir
from readingroom.frames.codec import LOSSLESS_ENCODING, decode_lossless, encode_lossless
from readingroom.frames.encode import ENCODER_VERSION, encode_series, series_key

__all__ = [
    "ENCODER_VERSION", "FrameCache", "LOSSLESS_ENCODING", "decode_lossless", "default_cache_dir",
    "encode_lossless", "encode_series", "series_key",
]
