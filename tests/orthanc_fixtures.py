"""A real Orthanc (Debian's `orthanc` with the `orthanc-dicomweb` plugin) standing in for a PACS.

Started once per run with a generated configuration on free loopback ports (HTTP and DICOM),
basic authentication on, and studies loaded through its REST API like a modality would send
them. Outside CI a missing Orthanc skips these tests; under CI (env CI set) it fails the run.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pydicom
import pytest
import requests

from readingroom.dicom.synthetic import write_ct_phantom
from tests.conftest import FAKE_PHI
from tests.servers import free_port, wait_http

ORTHANC = "/usr/sbin/Orthanc"
DICOMWEB_PLUGIN = "/usr/share/orthanc/plugins/libOrthancDicomWeb.so"
AET = "ORTHANC"
USER, PASSWORD = "educator", "orthanc-test-password"
NO_GET_AET = "NOGETSCU"  # a modality Orthanc knows but refuses C-GET to, so C-MOVE is used


@dataclass
class Orthanc:
    http_port: int
    dicom_port: int
    log: Path
    proc: subprocess.Popen
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def dicomweb(self) -> str:
        return f"{self.url}/dicom-web"

    def dimse(self, path: str, aet: str = AET) -> str:
        return f"dicom://{aet}@127.0.0.1:{self.dicom_port}/{path}"

    def upload(self, folder: Path) -> None:
        """POST every file of ``folder`` to /instances, as a modality's C-STORE would land."""
        for path in sorted(folder.rglob("*.dcm")):
            reply = self.session.post(f"{self.url}/instances", data=path.read_bytes())
            reply.raise_for_status()

    def add_modality(self, name: str, aet: str, port: int, **permissions) -> None:
        body = {"AET": aet, "Host": "127.0.0.1", "Port": port, **permissions}
        self.session.put(f"{self.url}/modalities/{name}", json=body).raise_for_status()

    def study_id(self, study_uid: str) -> str:
        found = self.session.post(f"{self.url}/tools/lookup", data=study_uid).json()
        return next(item["ID"] for item in found if item["Type"] == "Study")

    def store_to(self, modality: str, study_uid: str, *, asynchronous: bool = False) -> dict:
        """Orthanc sends a study by C-STORE to a modality (what "send to teaching file" does)."""
        body = {"Resources": [self.study_id(study_uid)], "Synchronous": not asynchronous}
        reply = self.session.post(f"{self.url}/modalities/{modality}/store", json=body)
        reply.raise_for_status()
        return reply.json()


def _start(root: Path, attempts: int = 3) -> Orthanc:
    """Orthanc on two free ports; another process may take a port between the probe and the bind, so retry."""
    credentials = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    for attempt in range(attempts):
        http_port, dicom_port = free_port(), free_port()
        config = root / "orthanc.json"
        config.write_text(json.dumps(_configuration(root, http_port, dicom_port)))
        log = root / "orthanc.log"
        proc = subprocess.Popen([ORTHANC, str(config)], stdout=log.open("w"), stderr=subprocess.STDOUT, cwd=root)
        server = Orthanc(http_port, dicom_port, log, proc)
        server.session.auth = (USER, PASSWORD)
        try:
            wait_http(f"{server.url}/system", proc, log, headers={"Authorization": f"Basic {credentials}"})
            return server
        except RuntimeError:
            if attempt == attempts - 1 or "already in use" not in log.read_text():
                raise
    raise AssertionError("no attempt left")


def _configuration(root: Path, http_port: int, dicom_port: int) -> dict:
    return {
        "Name": "readingroom-test-pacs",
        "StorageDirectory": str(root / "storage"),
        "IndexDirectory": str(root / "storage"),
        "HttpPort": http_port,
        "DicomPort": dicom_port,
        "DicomAet": AET,
        "DicomCheckCalledAet": True,
        "RemoteAccessAllowed": False,
        "AuthenticationEnabled": True,
        "RegisteredUsers": {USER: PASSWORD},
        "DicomAlwaysAllowFind": True,
        "DicomAlwaysAllowGet": False,  # otherwise every calling AE may C-GET, and no refusal can be tested
        "DicomAlwaysAllowMove": True,
        "DicomModalities": {  # ports are set by the tests that need Orthanc to connect back
            "readingroom": {"AET": "READINGROOM", "Host": "127.0.0.1", "Port": 1, "AllowGet": True},
            "noget": {"AET": NO_GET_AET, "Host": "127.0.0.1", "Port": 1, "AllowGet": False},
        },
        "DicomScuTimeout": 10,
        "Plugins": [DICOMWEB_PLUGIN],
        "DicomWeb": {"Enable": True, "Root": "/dicom-web/", "EnableWado": False},
        "HttpDescribeErrors": False,
    }


@pytest.fixture(scope="session")
def orthanc() -> Iterator[Orthanc]:
    """A running Orthanc; its session is signed in with the registered user."""
    if not (os.path.exists(ORTHANC) and os.path.exists(DICOMWEB_PLUGIN)):
        reason = "Orthanc or its DICOMweb plugin is not installed (apt-get install orthanc orthanc-dicomweb)"
        if os.environ.get("CI"):
            pytest.fail(f"CI (env CI set) must run the PACS tests, but: {reason}")
        pytest.skip(reason)
    root = Path(tempfile.mkdtemp(prefix="readingroom-orthanc-"))
    server = _start(root)
    try:
        yield server
    finally:
        server.proc.terminate()
        try:
            server.proc.wait(20)
        except subprocess.TimeoutExpired:
            server.proc.kill()
        shutil.rmtree(root, ignore_errors=True)


def synthetic_study(folder: Path, *, seed: int, series: int = 2, slices: int = 6, size: int = 64, **extra) -> str:
    """A study of ``series`` phantom CT series carrying FAKE_PHI; returns its Study Instance UID."""
    study_uid = pydicom.uid.generate_uid(entropy_srcs=["readingroom-pacs-test-study", str(seed)])
    for number in range(series):
        part = folder / f"series-{number}"
        write_ct_phantom(part, slices=slices, size=size, seed=seed * 100 + number, noise=0)
        for path in part.iterdir():
            ds = pydicom.dcmread(path)
            ds.StudyInstanceUID = study_uid
            ds.SeriesNumber = number + 1
            ds.SeriesDescription = f"Axial {number + 1}"
            for keyword, value in {**FAKE_PHI, **extra}.items():
                setattr(ds, keyword, value)
            ds.save_as(path)
    return study_uid
