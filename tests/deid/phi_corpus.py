"""The synthetic-PHI corpus, built in tmp_path at test time and never committed.

Every value below is invented, distinctive enough that finding it in an output can only
mean a leak. The corpus has PHI in every action class of Table E.1-1, in nested
sequences, in a private block, in free text, in folder names, and as text burned into
ultrasound frames with and without the Burned In Annotation flag.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"
SC_IMAGE = "1.2.840.10008.5.1.4.1.1.7"


@dataclass(frozen=True)
class Patient:
    family: str
    given: str
    patient_id: str
    birth_date: str
    address: str
    phone: str

    @property
    def name(self) -> str:
        return f"{self.family}^{self.given}"


PATIENT_A = Patient("Quixtable", "Marguerite", "QX99817263", "19570614", "4417 Wistful Vista Lane", "555-0143-2291")
PATIENT_B = Patient("Zembrowski", "Thaddeus", "ZB44120987", "19630302", "88 Quillfeather Road", "555-0177-8120")
INSTITUTION = "Bramblewood Memorial Hospital"
REFERRING = "Drummond^Percival"
OPERATOR = "Fenwick^Tamsin"
READER = "Oyelaran^Bartholomew"
STATION = "BRAMBLECT7"
SERIAL = "SNQZ88231"
ACCESSION = "ACC77123409"
BURNED_TEXT = "QUIXTABLE"
INSIDE_TEXT_AT = (60, 150)  # (x, y) of the patient ID drawn inside the ultrasound region

# Strings that must not appear, in any case, in any output byte or path.
PHI_STRINGS = [
    PATIENT_A.family, PATIENT_A.given, PATIENT_A.patient_id, PATIENT_A.birth_date, "Wistful Vista", "0143-2291",
    PATIENT_B.family, PATIENT_B.given, PATIENT_B.patient_id, PATIENT_B.birth_date, "Quillfeather", "0177-8120",
    "Bramblewood", "Drummond", "Percival", "Fenwick", "Tamsin", "Oyelaran", "Bartholomew",
    STATION, SERIAL, ACCESSION, "ACME PHI CREATOR", "marguerite@example.org",
]


@dataclass(frozen=True)
class Corpus:
    root: Path
    ct_folder_a1: Path  # patient A, study 1
    source_uids: frozenset[str]  # every instance UID in the sources
    study_dates: dict[str, str]  # source StudyInstanceUID -> StudyDate


def _file_meta(sop_class: str, sop_instance: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_instance
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.SourceApplicationEntityTitle = STATION
    return meta


def _patient_and_study(ds: Dataset, patient: Patient, study_uid: str, study_date: str) -> None:
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.PatientName = patient.name
    ds.PatientID = patient.patient_id
    ds.PatientBirthDate = patient.birth_date  # Z
    ds.PatientSex = "F"
    ds.PatientAge = "063Y"
    ds.PatientSize = "1.68"
    ds.PatientWeight = "71.5"
    ds.PatientAddress = patient.address  # X
    ds.PatientTelephoneNumbers = patient.phone  # X
    ds.OtherPatientIDs = patient.patient_id + "-OLD"  # X
    ds.AdditionalPatientHistory = f"Seen by {READER} at {INSTITUTION}; {patient.address}"  # X
    ds.StudyInstanceUID = study_uid  # U
    ds.StudyDate = study_date  # Z -> shifted
    ds.StudyTime = "101500"
    ds.AccessionNumber = ACCESSION  # Z
    ds.StudyID = "ST" + patient.patient_id[-6:]  # Z
    ds.ReferringPhysicianName = REFERRING  # Z
    ds.NameOfPhysiciansReadingStudy = READER  # X
    ds.StudyDescription = "CT CHEST WITH CONTRAST"  # clean descriptor: kept
    ds.InstitutionName = INSTITUTION  # X/Z/D
    ds.InstitutionAddress = "1 Bramblewood Way"  # X
    ds.StationName = STATION  # X/Z/D
    ds.DeviceSerialNumber = SERIAL  # X/Z/D
    ds.OperatorsName = OPERATOR  # X/Z/D
    ds.Manufacturer = "READINGROOM TEST"
    ds.InstanceCreationDate = study_date  # X/D -> shifted
    ds.ContentDate = study_date  # Z/D -> shifted
    ds.ContentTime = "101700"
    ds.ContrastBolusAgent = f"Omnipaque given by {OPERATOR}"  # Z/D
    ds.ReferencedStudySequence = Sequence([_ref("1.2.840.10008.3.1.2.3.1", study_uid)])  # X/Z
    request = Dataset()  # X sequence with nested PHI
    request.RequestedProcedureID = patient.patient_id
    request.ScheduledProcedureStepID = ACCESSION
    ds.RequestAttributesSequence = Sequence([request])
    person = Dataset()  # an unlisted sequence whose items hold listed attributes
    person.ReferringPhysicianName = REFERRING
    person.InstitutionName = INSTITUTION
    code = Dataset()
    code.CodeValue = "XQ1"
    code.CodingSchemeDesignator = "99LOCAL"
    code.CodeMeaning = "Chest"
    person.PersonIdentificationCodeSequence = Sequence([code])  # D, nested
    ds.ReferringPhysicianIdentificationSequence = Sequence([person])
    private = ds.private_block(0x0009, "ACME PHI CREATOR", create=True)
    private.add_new(0x01, "LO", patient.name)
    private.add_new(0x02, "SH", patient.patient_id)
    private.add_new(0x03, "LO", "marguerite@example.org")


def _ref(sop_class: str, sop_instance: str) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = sop_class
    item.ReferencedSOPInstanceUID = sop_instance
    return item


def _ct_slice(patient, study_uid, series_uid, frame_uid, study_date, index, sop_uid, previous_uid) -> Dataset:
    ds = Dataset()
    ds.file_meta = _file_meta(CT_IMAGE, sop_uid)
    _patient_and_study(ds, patient, study_uid, study_date)
    ds.SOPClassUID = CT_IMAGE
    ds.SOPInstanceUID = sop_uid
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.Modality = "CT"
    ds.SeriesInstanceUID = series_uid
    ds.SeriesNumber = 2
    ds.SeriesDate = study_date
    ds.SeriesDescription = f"Chest follow-up for {patient.family}"  # clean descriptor with PHI: the name is cut
    ds.ProtocolName = "CHEST ROUTINE"  # clean descriptor: kept
    ds.ImageComments = f"MRN {patient.patient_id}, call {patient.phone}"  # X (clean descriptor with PHI)
    ds.BodyPartExamined = "CHEST"
    ds.FrameOfReferenceUID = frame_uid
    ds.PositionReferenceIndicator = ""
    ds.InstanceNumber = index + 1
    ds.AcquisitionNumber = 1
    ds.PatientPosition = "HFS"
    ds.KVP = "120"
    ds.SliceThickness = "1.25"
    ds.PixelSpacing = ["0.7", "0.7"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.ImagePositionPatient = ["-11.2", "-11.2", f"{-50 + 1.25 * index:.2f}"]
    ds.SliceLocation = f"{-50 + 1.25 * index:.2f}"
    ds.RescaleIntercept = "-1024"
    ds.RescaleSlope = "1"
    ds.RescaleType = "HU"
    ds.WindowCenter = "40"
    ds.WindowWidth = "400"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = 32
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    rng = np.random.default_rng(index)
    ds.PixelData = rng.integers(0, 4000, (32, 32), dtype=np.uint16).tobytes()
    if previous_uid:  # X/Z/U*: the reference must follow the remapped UID
        ds.ReferencedImageSequence = Sequence([_ref(CT_IMAGE, previous_uid)])
    return ds


def _us_frame(patient, study_uid, study_date, flagged: bool, sop_class: str = US_IMAGE) -> tuple[Dataset, np.ndarray]:
    from PIL import Image, ImageDraw, ImageFont

    rows, columns = 240, 320
    rng = np.random.default_rng(7)
    pixels = np.zeros((rows, columns, 3), dtype=np.uint8)
    # speckle inside the declared region (rows 60..219, columns 40..279)
    coarse = rng.gamma(2.0, 25.0, (40, 60)).clip(0, 180).astype(np.uint8)  # speckle: grainy, never saturated
    pixels[60:220, 40:280] = np.asarray(Image.fromarray(coarse).resize((240, 160), Image.Resampling.BICUBIC))[..., None]
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    draw.text((12, 14), BURNED_TEXT, fill=(255, 255, 255), font=ImageFont.load_default(size=24))
    if not flagged:  # text over the image itself, inside the declared region
        draw.text(INSIDE_TEXT_AT, PATIENT_A.patient_id, fill=(255, 255, 0), font=ImageFont.load_default(size=24))
    out = np.asarray(image).copy()
    ds = Dataset()
    sop_uid = generate_uid()
    ds.file_meta = _file_meta(sop_class, sop_uid)
    _patient_and_study(ds, patient, study_uid, study_date)
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = sop_uid
    ds.Modality = "US" if sop_class == US_IMAGE else "OT"
    if sop_class == SC_IMAGE:
        ds.ConversionType = "WSD"  # a workstation screenshot
    ds.SeriesInstanceUID = generate_uid()
    ds.SeriesNumber = 5 if flagged else 6
    ds.InstanceNumber = 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "ABDOMINAL", ""]
    ds.BurnedInAnnotation = "YES" if flagged else "NO"
    ds.SamplesPerPixel = 3
    ds.PhotometricInterpretation = "RGB"
    ds.PlanarConfiguration = 0
    ds.Rows, ds.Columns = rows, columns
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelRepresentation = 0
    ds.PixelData = out.tobytes()
    if sop_class == US_IMAGE:
        region = Dataset()
        region.RegionSpatialFormat = 1
        region.RegionDataType = 1
        region.RegionFlags = 0
        region.RegionLocationMinX0, region.RegionLocationMinY0 = 40, 60
        region.RegionLocationMaxX1, region.RegionLocationMaxY1 = 279, 219
        region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = 3
        region.PhysicalDeltaX = region.PhysicalDeltaY = 0.01
        ds.SequenceOfUltrasoundRegions = Sequence([region])
    return ds, out


def _save(ds: Dataset, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def build_corpus(root: Path, slices: int = 10, with_images: bool = True) -> Corpus:
    """Patient A: two CT studies 17 days apart, an ultrasound with and without the flag and a
    screenshot; patient B: one CT study. Folder names carry names and IDs."""
    uids: set[str] = set()
    study_dates: dict[str, str] = {}
    first = None
    for patient, studies in ((PATIENT_A, ("20210614", "20210701")), (PATIENT_B, ("20190120",))):
        for study_date in studies:
            study_uid, series_uid, frame_uid = generate_uid(), generate_uid(), generate_uid()
            uids |= {study_uid, series_uid, frame_uid}
            study_dates[study_uid] = study_date
            folder = root / f"{patient.family}_{patient.given}" / f"{patient.patient_id}_{study_date}" / "CT"
            first = first or folder
            previous = None
            for index in range(slices):
                sop_uid = generate_uid()
                uids.add(sop_uid)
                _save(_ct_slice(patient, study_uid, series_uid, frame_uid, study_date, index, sop_uid, previous),
                      folder / f"{patient.family}_{index:03d}.dcm")
                previous = sop_uid
    if not with_images:
        return Corpus(root=root, ct_folder_a1=first, source_uids=frozenset(uids), study_dates=study_dates)
    us_study = generate_uid()
    uids.add(us_study)
    study_dates[us_study] = "20210620"
    us_folder = root / f"{PATIENT_A.family}_{PATIENT_A.given}" / "US"
    for flagged in (True, False):
        ds, _ = _us_frame(PATIENT_A, us_study, "20210620", flagged)
        uids |= {ds.SOPInstanceUID, ds.SeriesInstanceUID}
        _save(ds, us_folder / f"{PATIENT_A.family}_us_{'flag' if flagged else 'noflag'}.dcm")
    ds, _ = _us_frame(PATIENT_A, us_study, "20210620", False, sop_class=SC_IMAGE)
    del ds.BurnedInAnnotation
    uids |= {ds.SOPInstanceUID, ds.SeriesInstanceUID}
    _save(ds, us_folder / f"{PATIENT_A.family}_screenshot.dcm")
    return Corpus(root=root, ct_folder_a1=first, source_uids=frozenset(uids), study_dates=study_dates)


def header_clean_us(path: Path, key: bytes, flag: str | None) -> Path:
    """An ultrasound whose headers another tool cleaned, with the patient's name and MRN still
    burned into its pixels, written to ``path``. ``flag`` is Burned In Annotation (None: absent)."""
    from PIL import Image, ImageDraw, ImageFont

    from readingroom.deid import deidentify_dataset

    ds, pixels = _us_frame(PATIENT_A, generate_uid(), "20210620", flagged=True)
    image = Image.fromarray(pixels)
    ImageDraw.Draw(image).text((12, 200), PATIENT_A.patient_id, fill=(255, 255, 255), font=ImageFont.load_default(size=24))
    ds.PixelData = np.asarray(image).tobytes()
    clean = deidentify_dataset(ds, key, check_pixels=False)  # headers only, as another tool would
    if flag is None:
        del clean.BurnedInAnnotation
    else:
        clean.BurnedInAnnotation = flag
    _save(clean, path)
    return path
