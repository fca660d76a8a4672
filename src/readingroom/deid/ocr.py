"""Offline OCR of burned-in text: Debian's Tesseract through pytesseract.

Why Tesseract: it is a Debian package (``tesseract-ocr``, English model included), runs
offline with nothing fetched at run time, gives word boxes with confidences, and adds one
small pure-Python wrapper to the wheel. The alternative that ships its model on PyPI,
``rapidocr_onnxruntime`` 1.4 (PP-OCRv4 ONNX models inside the wheel), pulls in
onnxruntime, the GUI build of OpenCV (libGL) and shapely, about 100 MB, for text that is
mostly machine-drawn Latin letters and digits, which Tesseract reads well; its successor
``rapidocr`` 3.x downloads models at first use, which our machines cannot do.

pytesseract is imported on first use only: importing ``readingroom.deid`` stays light.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass

import numpy as np

# Small burned-in fonts are read with low confidence (a clinic name at 5 px scores 20-50), so
# masking takes anything word-like above a floor that keeps most speckle out; "text remains" after masking asks for a confident word.
MASK_CONFIDENCE = 25.0
REMAINS_CONFIDENCE = 60.0
_BRIGHT = 200  # of 255: annotation pixels; speckle seldom reaches it
_NEUTRAL_SPREAD = 48  # max channel spread (of 255) of a grey/white annotation pixel
_MAX_LINE_FRACTION = 0.08  # a word taller than this share of the frame is speckle read as letters
_MIN_LINE_PIXELS = 4  # nor can a word lower than this (in frame pixels) hold readable letters
_MIN_SIDE = 720  # small frames are enlarged first: Tesseract wants letters >= ~20 px high


UNAVAILABLE = "cannot check burned-in text: install tesseract-ocr"


@dataclass(frozen=True)
class Box:
    """A text region in frame pixel coordinates: rows ``top:bottom``, columns ``left:right``."""

    left: int
    top: int
    right: int
    bottom: int
    confidence: float = 100.0


class OcrUnavailable(RuntimeError):
    """No OCR engine: burned-in text cannot be checked, so images needing it are held back."""


def ocr_available() -> bool:
    """True when both pytesseract and the ``tesseract`` program are installed."""
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return shutil.which("tesseract") is not None


def find_text(frame: np.ndarray, min_confidence: float = MASK_CONFIDENCE) -> list[Box]:
    """Boxes of words in a frame (rows x columns, or x 3 for colour), in its own coordinates.

    Burned-in annotations are drawn light on dark at (or near) full brightness, so the frame
    is read twice: inverted to dark on light (what Tesseract reads best), and as a mask of its
    brightest pixels, which lifts letters out of the speckle they are drawn over.
    """
    if not ocr_available():
        raise OcrUnavailable(UNAVAILABLE)
    gray = to_gray(frame)
    bright = np.where(gray >= _BRIGHT, 0, 255).astype(np.uint8)
    return _read(255 - gray, min_confidence) + _read(bright, min_confidence)


def looks_drawn(frame: np.ndarray, box: Box, min_fraction: float = 0.04) -> bool:
    """True when a box holds strokes at annotation brightness; speckle read as letters does not.

    Low-confidence reads are masked only when this holds, so anatomy is not blacked out;
    confident reads are always masked, and text left readable still holds the file back.
    """
    window = (slice(box.top, box.bottom), slice(box.left, box.right))
    strokes = to_gray(frame)[window] >= _BRIGHT
    if frame.ndim == 3:  # lettering is grey or white; Doppler flow is bright but coloured
        channels = frame[window].astype(np.int16)
        strokes &= (channels.max(axis=-1) - channels.min(axis=-1)) <= _NEUTRAL_SPREAD
    return strokes.size > 0 and float(np.mean(strokes)) >= min_fraction


def to_gray(frame: np.ndarray) -> np.ndarray:
    """8-bit grayscale stretched to 0..255, where text in any bright colour is bright."""
    data = (frame.max(axis=-1) if frame.ndim == 3 else frame).astype(np.float32)
    low, high = float(data.min()), float(data.max())
    if high <= low:
        return np.zeros(data.shape, dtype=np.uint8)
    return ((data - low) * (255.0 / (high - low))).astype(np.uint8)


def _read(image8: np.ndarray, min_confidence: float) -> list[Box]:
    import pytesseract
    from PIL import Image

    scale = min(4, max(1, int(np.ceil(_MIN_SIDE / max(1, min(image8.shape))))))
    image = Image.fromarray(image8)
    if scale > 1:
        image = image.resize((image8.shape[1] * scale, image8.shape[0] * scale), Image.Resampling.BICUBIC)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")  # one thread per OCR: runs already use a process per core
    max_height = max(12, int(image8.shape[0] * _MAX_LINE_FRACTION)) * scale
    data = pytesseract.image_to_data(image, config="--psm 11 --oem 1", output_type=pytesseract.Output.DICT)
    boxes = []
    for text, conf, left, top, width, height in zip(
        data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"], strict=True
    ):
        if not _MIN_LINE_PIXELS * scale <= height <= max_height or sum(ch.isalnum() for ch in text) < 2 \
                or float(conf) < min_confidence:
            continue
        boxes.append(Box(left // scale, top // scale, -(-(left + width) // scale), -(-(top + height) // scale), float(conf)))
    return boxes
