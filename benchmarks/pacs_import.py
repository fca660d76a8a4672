"""PACS import: files/s from Orthanc to a de-identified case, by DICOMweb and by C-GET, beside plain downloads.

One 300-slice 512x512 CT (the phantom of ``readingroom.dicom.synthetic`` with identifiers
planted) is loaded into a real Orthanc (Debian's, with its DICOMweb plugin) on free
loopback ports. Each round then runs, one after another on the same study:

- readingroom, DICOMweb: ``import_case`` on the study URL (QIDO-RS, WADO-RS, de-identified in
  memory, written, case notebook built);
- a plain DICOMweb download: dicomweb-client's ``iter_series`` for each series, each dataset
  saved into a folder as it came (no de-identification, no case);
- readingroom, C-GET: ``import_case`` on ``dicom://ORTHANC@127.0.0.1:PORT/<study>``;
- dcmtk's ``getscu`` into a folder (no de-identification).

One untimed plain download first, so no path pays for Orthanc's first read of its files.
Ratios against the plain download of the same protocol, in the same round, are what count.
Run: ``.venv/bin/python benchmarks/pacs_import.py --rounds 2 [--update-readme]``
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from harness import Orthanc  # noqa: E402

README = HERE / "README.md"
BEGIN = "<!-- pacs_import.py figures: begin -->"
END = "<!-- pacs_import.py figures: end -->"
SLICES = 300


def make_study(folder: Path) -> tuple[list[Path], str]:
    import pydicom

    from readingroom.dicom.synthetic import write_ct_phantom

    paths = write_ct_phantom(folder, slices=SLICES, size=512)
    for path in paths:
        ds = pydicom.dcmread(path)
        ds.PatientName, ds.PatientID, ds.PatientBirthDate = "Benchmark^Patient^Q", "BM00012345", "19600101"
        ds.InstitutionName, ds.AccessionNumber, ds.StudyDate = "Benchmark General", "ACC000123", "20240102"
        ds.save_as(path)
    return paths, str(pydicom.dcmread(paths[0]).StudyInstanceUID)


def ours(url: str, work: Path, key: Path) -> float:
    from readingroom.inflow.importing import import_case

    cases = work / "cases"
    shutil.rmtree(cases, ignore_errors=True)
    start = time.perf_counter()
    made = import_case("Benchmark study", url, cases, key_path=key)
    elapsed = time.perf_counter() - start
    assert sum(1 for _ in (made.folder / "images").rglob("*.dcm")) == SLICES
    return elapsed


def plain_dicomweb(root: str, study: str, work: Path) -> float:
    from dicomweb_client import DICOMwebClient

    out = work / "plain-web"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    start = time.perf_counter()
    client = DICOMwebClient(root)
    listed = client.search_for_instances(study_instance_uid=study, fields=["SeriesInstanceUID"], get_remaining=True)
    for series in sorted({item["0020000E"]["Value"][0] for item in listed}):
        for ds in client.iter_series(study, series):
            ds.save_as(out / f"{ds.SOPInstanceUID}.dcm", enforce_file_format=True)
    elapsed = time.perf_counter() - start
    assert len(list(out.iterdir())) == SLICES
    return elapsed


def getscu(port: int, study: str, work: Path) -> float:
    out = work / "getscu"
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir()
    start = time.perf_counter()
    subprocess.run(["getscu", "-S", "-aet", "READINGROOM", "-aec", Orthanc.AET, "127.0.0.1", str(port),
                    "-k", "QueryRetrieveLevel=STUDY", "-k", f"StudyInstanceUID={study}", "-od", str(out)],
                   check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    assert len(list(out.iterdir())) == SLICES
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--update-readme", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="readingroom-pacs-bench-"))
    key = work / "keys" / "deid.key"
    orthanc = Orthanc(work)
    try:
        paths, study = make_study(work / "study")
        orthanc.upload(paths)
        web, dimse = f"{orthanc.url}/dicom-web/studies/{study}", f"dicom://{Orthanc.AET}@127.0.0.1:{orthanc.dicom_port}/{study}"
        plain_dicomweb(f"{orthanc.url}/dicom-web", study, work)  # warm-up: Orthanc reads the files from disk once
        runs: dict[str, list[float]] = {"ours_web": [], "plain_web": [], "ours_get": [], "getscu": []}
        for round_number in range(args.rounds):
            runs["ours_web"].append(ours(web, work, key))
            runs["plain_web"].append(plain_dicomweb(f"{orthanc.url}/dicom-web", study, work))
            runs["ours_get"].append(ours(dimse, work, key))
            runs["getscu"].append(getscu(orthanc.dicom_port, study, work))
            print(f"round {round_number + 1}: " + ", ".join(f"{k} {SLICES / v[-1]:.0f} files/s" for k, v in runs.items()),
                  flush=True)
    finally:
        orthanc.stop()
        shutil.rmtree(work, ignore_errors=True)
    report = figures(runs, args.rounds)
    print(report)
    if args.update_readme:
        text = README.read_text()
        start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
        README.write_text(text[:start] + "\n" + report + "\n" + text[end:])


def figures(runs: dict[str, list[float]], rounds: int) -> str:
    rate = {k: SLICES / statistics.median(v) for k, v in runs.items()}
    ratio = lambda a, b: statistics.median(SLICES / x / (SLICES / y) for x, y in zip(runs[a], runs[b]))  # noqa: E731
    load = os.getloadavg()[0]
    rows = [
        "| path | files/s (median) | ratio to the plain download, same round (median) |",
        "|---|---|---|",
        f"| readingroom, DICOMweb, de-identified case | {rate['ours_web']:.0f} | {ratio('ours_web', 'plain_web'):.2f}x |",
        f"| plain dicomweb-client download (no de-identification) | {rate['plain_web']:.0f} | 1.00x |",
        f"| readingroom, C-GET, de-identified case | {rate['ours_get']:.0f} | {ratio('ours_get', 'getscu'):.2f}x of getscu |",
        f"| dcmtk getscu (no de-identification) | {rate['getscu']:.0f} | 1.00x |",
    ]
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(rows) + f"\n\n{rounds} round(s), {SLICES} slices of 512x512, {when}, load average {load:.1f} at the end."


if __name__ == "__main__":
    main()
