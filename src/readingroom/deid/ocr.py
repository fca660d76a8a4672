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

import shutil
from dataclasses import dataclass

import numpy as np

_MIN_CONFIDENCE = 30.0
_SURE_CONFIDENCE = 70.0
_MIN_SIDE = 600  # small frames are enlarged first: Tesseract wants letters >= ~20 px high


@dataclass(frozen=True)
class Box:
    """A text region in frame pixel coordinates: rows ``top:bottom``, columns ``left:right``."""

    left: int
    top: int
    right: int
    bottom: int


class OcrUnavailable(RuntimeError):
    """No OCR engine: burned-in text cannot be checked, so images needing it are held back."""


def ocr_available() -> bool:
    """True when both pytesseract and the ``tesseract`` program are installed."""
    try:
        import pytesseract  # noqa: F401
    except ImportError:
        return False
    return shutil.which("tesseract") is not None


def find_text(gray: np.ndarray) -> list[Box]:
    """Boxes of words in an 8-bit grayscale frame where text is brighter than its background.

    Burned-in annotations are drawn light on dark, so the frame is inverted (Tesseract reads
    dark on light) and enlarged when small; boxes come back in the frame's own coordinates.
    """
    if not ocr_available():
        raise OcrUnavailable("no OCR engine: install Debian's tesseract-ocr and pytesseract")
    import pytesseract
    from PIL import Image

    scale = max(1, int(np.ceil(_MIN_SIDE / max(1, min(gray.shape)))))
    scale = min(scale, 4)
    image = Image.fromarray(255 - gray)
    if scale > 1:
        image = image.resize((gray.shape[1] * scale, gray.shape[0] * scale), Image.Resampling.BICUBIC)
    data = pytesseract.image_to_data(image, config="--psm 11 --oem 1", output_type=pytesseract.Output.DICT)
    boxes = []
    for text, conf, left, top, width, height in zip(
        data["text"], data["conf"], data["left"], data["top"], data["width"], data["height"]
    ):
        alnum = sum(ch.isalnum() for ch in text)
        conf = float(conf)
        if (alnum >= 2 and conf >= _MIN_CONFIDENCE) or (alnum >= 1 and conf >= _SURE_CONFIDENCE):
            boxes.append(Box(left // scale, top // scale, -(-(left + width) // scale), -(-(top + height) // scale)))
    return boxes
