"""Open DICOM from anywhere, assemble series, and render frames correctly.

Importing this package loads pydicom and numpy only: no Jupyter, server or OCR.
"""

from readingroom.dicom.decode import decode_frame
from readingroom.dicom.geometry import PixelSpacing
from readingroom.dicom.headers import Instance, read_instance
from readingroom.dicom.limits import InputLimits
from readingroom.dicom.model import Collection, Frame, Problem, Series, Study
from readingroom.dicom.opening import open_path
from readingroom.dicom.presets import Preset, find_preset, presets_for
from readingroom.dicom.processing import Window, auto_window, header_windows, rescale
from readingroom.dicom.render import as_window, default_window, modality_values, render_frame, render_stored
from readingroom.dicom.sources import SourceFile, list_source_files

__all__ = [
    "Collection", "Frame", "InputLimits", "Instance", "PixelSpacing", "Preset", "Problem", "Series", "SourceFile",
    "Study", "Window", "as_window", "auto_window", "decode_frame", "default_window", "find_preset",
    "header_windows", "list_source_files", "modality_values", "open_path", "presets_for",
    "read_instance", "render_frame", "render_stored", "rescale",
]
