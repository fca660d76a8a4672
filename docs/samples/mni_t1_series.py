"""Write the ICBM 2009a T1 template that nilearn ships as an axial MR DICOM series.

The sample case "Normal brain anatomy on a 1 mm T1 volume" was made from this script's
output with `readingroom new`. The template is the MNI ICBM152 2009a nonlinear symmetric
average of 152 normal adult brains (Fonov et al., NeuroImage 2011), distributed inside the
nilearn wheel on PyPI. Run:

    pip download nilearn==0.14.1 --no-deps -d /tmp/nl && unzip -o /tmp/nl/nilearn-*.whl -d /tmp/nl
    python docs/samples/mni_t1_series.py /tmp/nl/nilearn/datasets/data/mni_icbm152_t1_tal_nlin_sym_09a_converted.nii.gz OUT

Geometry comes from the NIfTI sform (RAS) and is written in DICOM's patient frame (LPS):
rows run anterior to posterior, columns right to left, slices inferior to superior at 1 mm.
Pixels are stored losslessly as JPEG 2000 to keep the repository small.
"""

from __future__ import annotations

import gzip
import struct
import sys
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import JPEG2000Lossless, MRImageStorage, generate_uid

_DTYPES = {2: np.uint8, 4: np.int16, 16: np.float32, 512: np.uint16}


def read_nifti(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(voxels indexed [i, j, k], 3x4 sform) of a gzipped NIfTI-1 file; numpy only."""
    with gzip.open(path) as fp:
        raw = fp.read()
    dims = struct.unpack("<8h", raw[40:56])
    datatype = struct.unpack("<h", raw[70:72])[0]
    offset = int(struct.unpack("<f", raw[108:112])[0])
    sform = np.array([struct.unpack("<4f", raw[280 + 16 * r: 296 + 16 * r]) for r in range(3)])
    shape = dims[1:4]
    voxels = np.frombuffer(raw, _DTYPES[datatype], count=int(np.prod(shape)), offset=offset).reshape(shape, order="F")
    return voxels, sform


def write_series(voxels: np.ndarray, sform: np.ndarray, out: Path) -> int:
    if not np.allclose(sform[:, :3], np.diag(np.diag(sform[:, :3]))) or (np.diag(sform[:, :3]) <= 0).any():
        raise SystemExit("expected an axis-aligned RAS sform")
    spacing = np.diag(sform[:, :3])
    nx, ny, nz = voxels.shape
    out.mkdir(parents=True, exist_ok=True)
    study, series = generate_uid(), generate_uid()
    for k in range(nz):
        # column c -> i = nx-1-c (toward patient left), row r -> j = ny-1-r (toward posterior)
        pixels = np.ascontiguousarray(voxels[::-1, ::-1, k].T).astype(np.uint16)
        corner_ras = sform @ np.array([nx - 1, ny - 1, k, 1.0])
        ds = _slice(k, study, series, spacing, [-corner_ras[0], -corner_ras[1], corner_ras[2]], pixels)
        ds.compress(JPEG2000Lossless, pixels, encoding_plugin="pylibjpeg")
        ds.save_as(out / f"{k + 1:04d}.dcm", enforce_file_format=True)
    return nz


def _slice(k: int, study: str, series: str, spacing, position, pixels: np.ndarray) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, generate_uid()
    ds.file_meta.MediaStorageSOPClassUID, ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPClassUID, ds.SOPInstanceUID
    ds.PatientName, ds.PatientID, ds.PatientSex = "ICBM152^Template", "ICBM152-2009A", "O"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
    ds.StudyDescription, ds.SeriesDescription = "Brain MRI", "T1 3D axial 1 mm (ICBM 2009a average)"
    ds.Modality, ds.BodyPartExamined, ds.SeriesNumber, ds.InstanceNumber = "MR", "BRAIN", 1, k + 1
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    ds.ImagePositionPatient = [float(v) for v in position]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [float(spacing[1]), float(spacing[0])]
    ds.SliceThickness = ds.SpacingBetweenSlices = float(spacing[2])
    ds.SliceLocation = float(position[2])
    ds.Rows, ds.Columns = pixels.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.WindowCenter, ds.WindowWidth = 120, 240
    ds.PixelData = pixels.tobytes()
    return ds


if __name__ == "__main__":
    volume, affine = read_nifti(Path(sys.argv[1]))
    print(f"wrote {write_series(volume, affine, Path(sys.argv[2]))} slices")
