"""A real ultrasound with a clinic's name burned in: the text goes, the anatomy stays."""

import numpy as np
import pydicom

from readingroom.deid import deidentify
from readingroom.deid.ocr import REMAINS_CONFIDENCE, find_text
from tests.system_packages import require


def test_doppler_node_keeps_its_flow_and_loses_its_lettering(tmp_path, data_store_files):
    require("tesseract")
    source = data_store_files / "US1_UNCR.dcm"
    report = deidentify(source, tmp_path / "out", key_path=tmp_path / "keys" / "deid.key", workers=1)
    assert report.written == 1 and report.held_back == []
    written = next((tmp_path / "out").rglob("*.dcm"))
    before = pydicom.dcmread(source).pixel_array
    after = pydicom.dcmread(written).pixel_array
    # The banner (institution, IDs, times) is gone: nothing readable is left there.
    assert find_text(after[:104], min_confidence=REMAINS_CONFIDENCE) == []
    assert find_text(before[:104], min_confidence=REMAINS_CONFIDENCE) != []  # it was readable before
    # The lymph node and its Doppler flow (rows 150-290, columns 90-545) are left alone.
    node = (slice(150, 290), slice(90, 545))
    unchanged = np.all(after[node] == before[node], axis=-1).mean()
    assert unchanged > 0.95, f"only {unchanged:.0%} of the node's pixels survived masking"
