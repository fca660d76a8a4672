"""`readingroom receive` as the PACS's "send to teaching file" destination: Orthanc C-STOREs to it."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import nbformat
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from readingroom.dicom import open_path
from readingroom.inflow.drafts import list_drafts
from tests.conftest import FAKE_PHI
from tests.orthanc_fixtures import synthetic_study
from tests.servers import free_port, wait_for

from .tools import CLI, cli_env, identifiers_in, key_object

AET = "TEACHING"



class Receiving:
    def __init__(self, root: Path, orthanc) -> None:
        self.root, self.inbox, self.key = root, root / "inbox", root / "keys" / "deid.key"
        self.port = free_port()
        self.log = root / "receive.log"
        orthanc.add_modality("teaching", AET, self.port)
        self.proc = None

    def start(self, quiet_s: float = 2) -> None:
        with self.log.open("a") as out:
            self.proc = subprocess.Popen([*CLI, "receive", "--port", str(self.port), "--aet", AET, "--inbox", str(self.inbox),
                                          "--quiet", str(quiet_s), "--key", str(self.key)], stdout=out, stderr=subprocess.STDOUT,
                                         env=cli_env(COLUMNS="200"))
        wait_for(lambda: "listening as" in self.log.read_text(), "receive to listen", timeout=60)

    def drafts(self) -> list[Path]:
        return sorted(self.inbox / draft.name for draft in list_drafts(self.inbox))

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def receiving(tmp_path, orthanc):
    receiver = Receiving(tmp_path, orthanc)
    receiver.start()
    yield receiver
    receiver.stop()


def test_a_sent_study_becomes_a_deidentified_draft_starting_on_its_key_image(tmp_path, orthanc, receiving):
    folder = tmp_path / "study"
    study_uid = synthetic_study(folder, seed=11)
    key_object(folder, "Phantom lesion\nThe rim enhances on the fourth slice.")
    orthanc.upload(folder)
    orthanc.store_to("teaching", study_uid)
    [draft] = wait_for(receiving.drafts, "a draft")
    meta = json.loads((draft / "draft.json").read_text())
    assert meta["title"] == "Phantom lesion" and meta["images"] == 12
    assert "rim enhances" in meta["notes"]
    assert len(list((draft / "images").rglob("*.dcm"))) == 12  # the KOS marks, it is not an image
    assert identifiers_in(receiving.inbox, receiving.log.read_text(), extra=(study_uid,)) == []
    notebook = nbformat.read(draft / "case.ipynb", as_version=4)
    assert notebook.metadata["readingroom"]["title"] == "Phantom lesion"
    assert "rim enhances" in notebook.cells[0].source
    viewer_cell = next(c.source for c in notebook.cells if "images" in c.metadata["tags"])
    series, frame = map(int, re.search(r'Viewer\("images", series=(\d+), frame=(\d+)\)', viewer_cell).groups())
    assert open_path(draft / "images").series[series].frames[frame].dataset.InstanceNumber == 4
    assert not list((receiving.inbox / ".incoming").iterdir())


def test_a_key_object_description_naming_the_patient_is_withheld(tmp_path, orthanc, receiving):
    folder = tmp_path / "study"
    study_uid = synthetic_study(folder, seed=12, series=1)
    key_object(folder, f"Case of {FAKE_PHI['PatientName'].replace('^', ' ')}")
    orthanc.upload(folder)
    orthanc.store_to("teaching", study_uid)
    [draft] = wait_for(receiving.drafts, "a draft")
    assert json.loads((draft / "draft.json").read_text())["notes"] is None
    assert "description withheld" in receiving.log.read_text()
    assert identifiers_in(receiving.inbox, receiving.log.read_text(), extra=(study_uid,)) == []


def test_two_studies_sent_at_once_stay_separate(tmp_path, orthanc, receiving):
    uids = [synthetic_study(tmp_path / f"study-{n}", seed=20 + n, series=1, slices=10) for n in range(2)]
    for n in range(2):
        orthanc.upload(tmp_path / f"study-{n}")
    jobs = [orthanc.store_to("teaching", uid, asynchronous=True) for uid in uids]
    assert all("ID" in job for job in jobs)
    drafts = wait_for(lambda: len(receiving.drafts()) == 2 and receiving.drafts(), "two drafts")
    studies = [{str(pydicom.dcmread(p).StudyInstanceUID) for p in (d / "images").rglob("*.dcm")} for d in drafts]
    assert [len(s) for s in studies] == [1, 1] and studies[0] != studies[1]
    assert [len(list((d / "images").rglob("*.dcm"))) for d in drafts] == [10, 10]


def test_kill_9_mid_study_leaves_no_partial_file_and_a_restart_drafts_what_arrived(tmp_path, orthanc, receiving):
    study_uid = synthetic_study(tmp_path / "big", seed=30, series=1, slices=120, size=256)
    orthanc.upload(tmp_path / "big")
    orthanc.store_to("teaching", study_uid, asynchronous=True)
    incoming = receiving.inbox / ".incoming"
    wait_for(lambda: len(list(incoming.rglob("*.dcm"))) >= 10, "the first instances")
    os.kill(receiving.proc.pid, signal.SIGKILL)
    receiving.proc.wait()
    landed = list(incoming.rglob("*.dcm"))
    for path in landed:  # every file under its own name is whole
        assert pydicom.dcmread(path).pixel_array.shape == (256, 256)
    assert 10 <= len(landed) < 120
    receiving.start()
    [draft] = wait_for(receiving.drafts, "the resumed study's draft")
    assert [p for p in receiving.inbox.rglob("*") if p.name.startswith(".arriving-")] == []
    assert len(list((draft / "images").rglob("*.dcm"))) >= len(landed)


def test_key_image_marks_received_before_a_kill_9_are_in_the_draft_after_a_restart(tmp_path, orthanc):
    receiving = Receiving(tmp_path, orthanc)
    receiving.start(quiet_s=600)  # no draft before the kill
    try:
        folder = tmp_path / "study"
        synthetic_study(folder, seed=31, series=1, slices=6)
        kos, _ = key_object(folder, "Phantom lesion on slice four")
        _send(receiving.port, [pydicom.dcmread(p) for p in sorted(folder.rglob("*.dcm"))])
        assert "1 key image(s)" in wait_for(lambda: "key object selection" in receiving.log.read_text()
                                            and receiving.log.read_text(), "the KOS to be acknowledged")
        os.kill(receiving.proc.pid, signal.SIGKILL)
        receiving.proc.wait()
        receiving.start()
        [draft] = wait_for(receiving.drafts, "the resumed study's draft")
        meta = json.loads((draft / "draft.json").read_text())
        assert meta["title"] == "Phantom lesion on slice four" and meta["images"] == 6
        assert len(meta["key_images"]) == 1
    finally:
        receiving.stop()


def _send(port: int, datasets: list[Dataset]) -> None:
    """C-STORE ``datasets`` to the receiver on one association, every one acknowledged as stored."""
    from pynetdicom import AE

    ae = AE(ae_title="SENDER")
    for sop_class in {str(ds.SOPClassUID) for ds in datasets}:
        ae.add_requested_context(sop_class, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", port, ae_title=AET)
    assert assoc.is_established
    try:
        assert [assoc.send_c_store(ds).Status for ds in datasets] == [0x0000] * len(datasets)
    finally:
        assoc.release()


def test_an_object_without_a_study_uid_is_refused_with_a_status_and_a_log_line(tmp_path, receiving):
    from pynetdicom import AE

    synthetic_study(tmp_path / "one", seed=40, series=1, slices=1)
    ds = pydicom.dcmread(next((tmp_path / "one").rglob("*.dcm")))
    del ds.StudyInstanceUID
    ae = AE(ae_title="SENDER")
    ae.add_requested_context(ds.SOPClassUID, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", receiving.port, ae_title=AET)
    assert assoc.is_established
    status = assoc.send_c_store(ds)
    assoc.release()
    assert status.Status == 0xC000
    assert "refused an object without Study" in wait_for(lambda: "refused" in receiving.log.read_text() and receiving.log.read_text(), "the log line")
    incoming = receiving.inbox / ".incoming"
    assert not incoming.exists() or not list(incoming.rglob("*.dcm"))


@pytest.fixture
def small_disk(tmp_path):
    """The inbox on a 256 KB tmpfs: room for a couple of slices, then ENOSPC."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(inbox)], capture_output=True, check=False)
    if mounted.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the full-disk test, but mount failed: {mounted.stderr.decode()}")
        pytest.skip("cannot mount a tmpfs here (needs root)")
    yield inbox
    subprocess.run(["umount", str(inbox)], check=False)


def test_a_full_disk_is_refused_with_out_of_resources_and_leaves_only_whole_files(tmp_path, orthanc, small_disk):
    from pynetdicom import AE

    receiving = Receiving(tmp_path, orthanc)
    receiving.start()
    try:
        synthetic_study(tmp_path / "big", seed=60, series=1, slices=8, size=256)
        ae = AE(ae_title="SENDER")
        ae.add_requested_context("1.2.840.10008.5.1.4.1.1.2", ExplicitVRLittleEndian)
        assoc = ae.associate("127.0.0.1", receiving.port, ae_title=AET)
        assert assoc.is_established
        statuses = [assoc.send_c_store(pydicom.dcmread(p)).Status for p in sorted((tmp_path / "big").rglob("*.dcm"))]
        assoc.release()
        assert 0x0000 in statuses and statuses[-1] == 0xA700
        assert "cannot write (No space left on device); status 0xA700" in receiving.log.read_text()
        landed = list(small_disk.rglob("*.dcm"))
        assert len(landed) == statuses.count(0x0000)
        for path in landed:
            assert pydicom.dcmread(path).pixel_array.shape == (256, 256)
        assert [p for p in small_disk.rglob("*") if p.name.startswith(".arriving-")] == []
    finally:
        receiving.stop()


def test_a_report_is_acknowledged_but_never_kept(tmp_path, receiving):
    from pynetdicom import AE

    report = Dataset()
    report.file_meta = FileMetaDataset()
    report.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    report.SOPClassUID, report.SOPInstanceUID = "1.2.840.10008.5.1.4.1.1.88.11", generate_uid()  # Basic Text SR
    report.StudyInstanceUID, report.SeriesInstanceUID, report.Modality = generate_uid(), generate_uid(), "SR"
    report.PatientName, report.PatientID = FAKE_PHI["PatientName"], FAKE_PHI["PatientID"]
    ae = AE(ae_title="SENDER")
    ae.add_requested_context(report.SOPClassUID, ExplicitVRLittleEndian)
    assoc = ae.associate("127.0.0.1", receiving.port, ae_title=AET)
    assert assoc.is_established
    assert assoc.send_c_store(report).Status == 0x0000
    assoc.release()
    wait_for(lambda: "not kept" in receiving.log.read_text(), "the log line")
    assert list(receiving.inbox.rglob("*.dcm")) == []
    assert identifiers_in(receiving.inbox, receiving.log.read_text()) == []
