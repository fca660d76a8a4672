"""A synthetic CT phantom series with known geometry and known HU, for tests and benchmarks.

Real teaching data cannot live in a test suite (size, licence, privacy), but a
viewer's measurements must be checked against ground truth: this phantom has a
soft-tissue cylinder in air, a cortical-bone ring, and a spherical lesion of
known diameter and density, written as one DICOM file per slice.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, UID, generate_uid

AIR_HU, TISSUE_HU, BONE_HU, LESION_HU = -1000, 40, 700, 80
_INTERCEPT = -1024


@dataclass(frozen=True)
class Phantom:
    """Where the phantom's parts are, in millimetres from the image centre."""

    body_radius_mm: float
    bone_inner_mm: float
    lesion_center_mm: tuple[float, float, float]  # (x, y, z) with z from the first slice
    lesion_radius_mm: float


def phantom_geometry(size: int, pixel_spacing: tuple[float, float], slices: int, slice_spacing: float) -> Phantom:
    fov = size * min(pixel_spacing)
    return Phantom(
        body_radius_mm=0.42 * fov,
        bone_inner_mm=0.37 * fov,
        lesion_center_mm=(0.0, 0.12 * fov, (slices - 1) * slice_spacing / 2.0),
        lesion_radius_mm=max(0.08 * fov, 2.5 * slice_spacing),
    )


def phantom_slice_hu(k: int, size: int, pixel_spacing: tuple[float, float], slices: int, slice_spacing: float, noise: float = 8.0, seed: int = 0) -> np.ndarray:
    """HU values of slice ``k`` (int16), deterministic for a given seed."""
    geometry = phantom_geometry(size, pixel_spacing, slices, slice_spacing)
    rows = (np.arange(size) - (size - 1) / 2.0) * pixel_spacing[0]
    cols = (np.arange(size) - (size - 1) / 2.0) * pixel_spacing[1]
    y, x = np.meshgrid(rows, cols, indexing="ij")
    radius = np.hypot(x, y)
    hu = np.full((size, size), float(AIR_HU))
    hu[radius <= geometry.body_radius_mm] = TISSUE_HU
    hu[(radius > geometry.bone_inner_mm) & (radius <= geometry.body_radius_mm)] = BONE_HU
    lx, ly, lz = geometry.lesion_center_mm
    dz = k * slice_spacing - lz
    in_lesion = (x - lx) ** 2 + (y - ly) ** 2 + dz**2 <= geometry.lesion_radius_mm**2
    hu[in_lesion] = LESION_HU
    if noise:
        rng = np.random.default_rng(seed * 100_003 + k)
        body = radius <= geometry.body_radius_mm
        hu[body] += rng.normal(0.0, noise, int(body.sum()))
    return np.rint(hu).astype(np.int16)


def write_ct_phantom(
    folder: str | Path,
    slices: int = 300,
    size: int = 512,
    pixel_spacing: tuple[float, float] = (0.7, 0.7),
    slice_spacing: float = 1.0,
    shuffle: bool = True,
    transfer_syntax: UID = ExplicitVRLittleEndian,
    seed: int = 0,
    noise: float = 8.0,
) -> list[Path]:
    """Write the phantom as ``slices`` CT files; names are shuffled so order must come from headers."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    study_uid = generate_uid(entropy_srcs=["readingroom-phantom-study", str(seed)])
    series_uid = generate_uid(entropy_srcs=["readingroom-phantom-series", str(seed), str(size), str(slices)])
    names = [f"IM{n:05d}.dcm" for n in range(slices)]
    if shuffle:
        random.Random(seed).shuffle(names)
    paths = []
    for k in range(slices):
        hu = phantom_slice_hu(k, size, pixel_spacing, slices, slice_spacing, noise=noise, seed=seed)
        ds = _slice_dataset(k, size, pixel_spacing, slice_spacing, study_uid, series_uid, seed)
        ds.PixelData = (hu.astype(np.int32) - _INTERCEPT).astype(np.uint16).tobytes()
        if transfer_syntax != ExplicitVRLittleEndian:
            ds.compress(transfer_syntax)
        path = folder / names[k]
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _slice_dataset(k: int, size: int, pixel_spacing, slice_spacing: float, study_uid: str, series_uid: str, seed: int) -> Dataset:
    sop_uid = generate_uid(entropy_srcs=[series_uid, str(k)])
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = CTImageStorage
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, sop_uid
    ds.PatientName, ds.PatientID = "Phantom^Synthetic", f"PHANTOM-{seed:04d}"
    ds.PatientSex, ds.PatientAge = "O", "000Y"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study_uid, series_uid
    ds.StudyDescription, ds.SeriesDescription = "Synthetic phantom", "Axial phantom"
    ds.Modality, ds.BodyPartExamined = "CT", "HEAD"
    ds.SeriesNumber, ds.InstanceNumber = 1, k + 1
    ds.ImageType = ["DERIVED", "SECONDARY", "AXIAL"]
    fov = size * np.array(pixel_spacing)
    ds.ImagePositionPatient = [float(-fov[1] / 2), float(-fov[0] / 2), float(k * slice_spacing)]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [float(pixel_spacing[0]), float(pixel_spacing[1])]
    ds.SliceThickness = float(slice_spacing)
    ds.SliceLocation = float(k * slice_spacing)
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = _INTERCEPT, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 80
    return ds


def write_header_bomb(template: str | Path, path: str | Path) -> Path:
    """``template``'s image with about 520,000 tiny private elements ahead of its pixels (5 MB of header).

    Each element is valid alone; together they take seconds to parse and check, as the
    malformed files that froze a server did. For tests and benchmarks of the input limits.
    """
    import struct

    from pydicom import dcmread

    ds = dcmread(template)
    if ds.file_meta.TransferSyntaxUID.is_compressed:
        ds.decompress()
    pixels = ds.PixelData
    del ds.PixelData
    ds.save_as(path, enforce_file_format=True)
    with open(path, "ab") as fp:
        for group in range(0x7001, 0x7FDF, 2):
            fp.write(struct.pack("<HH2sH", group, 0x0010, b"LO", 2) + b"RR")
            fp.write(b"".join(struct.pack("<HH2sH", group, el, b"LO", 2) + b"AB" for el in range(0x1000, 0x1100)))
        fp.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, len(pixels)) + pixels)
    return Path(path)
