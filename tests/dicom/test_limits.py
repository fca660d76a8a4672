"""Input limits: zip bombs, oversized files and malformed headers are refused in one line, in little memory.

Memory is measured on the real command, a subprocess: the peak resident size of every
process it ran (``RUSAGE_CHILDREN`` of a wrapper that starts only it).
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pydicom
import pytest

from readingroom.dicom import SourceFile, list_source_files, open_path, read_instance
from readingroom.dicom.limits import InputLimits, parse_size
from readingroom.errors import InputError, LimitError
from readingroom.dicom.synthetic import write_header_bomb

GIB = 1 << 30
MEASURED = ("import resource, subprocess, sys\n"
            "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)\n"
            "print(__import__('json').dumps({'status': done.returncode, 'stderr': done.stderr,\n"
            "    'peak_mib': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024}))")


def measured(*args, env: dict | None = None) -> dict:
    """Run ``readingroom ARGS``; its exit status, stderr and peak memory (MiB)."""
    wrapper = subprocess.run([sys.executable, "-c", MEASURED, sys.executable, "-m", "readingroom", *map(str, args)],
                             capture_output=True, text=True, env=env, check=True)
    return json.loads(wrapper.stdout)


def zip_member(archive: Path, name: str, deflated: bytes, crc: int, size: int, declared_size: int | None = None) -> None:
    """A zip of one deflated member, written by hand so a 2 GiB member costs no 2 GiB of compressing.

    ``declared_size`` lets the member's headers understate what its data inflates to.
    """
    declared = size if declared_size is None else declared_size
    encoded = name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(deflated), declared, len(encoded), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(deflated), declared,
                          len(encoded), 0, 0, 0, 0, 0, 0)
    directory_at = len(local) + len(encoded) + len(deflated)
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(central) + len(encoded), directory_at, 0)
    archive.write_bytes(local + encoded + deflated + central + encoded + end)


def zeros_deflated(size: int) -> tuple[bytes, int]:
    """Raw deflate of ``size`` zero bytes (a multiple of 64 MiB) and its CRC, built from one repeated block."""
    chunk = bytes(64 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = packer.compress(chunk) + packer.flush(zlib.Z_FULL_FLUSH)  # the packer's state is empty again after it
    crc = 0
    for _ in range(size // len(chunk)):
        crc = zlib.crc32(chunk, crc)
    return block * (size // len(chunk)) + zlib.compressobj(9, zlib.DEFLATED, -15).flush(), crc


@pytest.fixture(scope="module")
def bomb(tmp_path_factory) -> Path:
    """A 2 MB zip whose one member unpacks to 2 GiB."""
    archive = tmp_path_factory.mktemp("bomb") / "study.zip"
    deflated, crc = zeros_deflated(2 * GIB)
    zip_member(archive, "export/IM0001.dcm", deflated, crc, 2 * GIB)
    return archive


@pytest.fixture(scope="module")
def lying_bomb(tmp_path_factory) -> Path:
    """A zip whose member says it holds 1 MiB but inflates to 2 GiB."""
    archive = tmp_path_factory.mktemp("lying") / "study.zip"
    deflated, crc = zeros_deflated(2 * GIB)
    zip_member(archive, "IM0001.dcm", deflated, crc, 2 * GIB, declared_size=1 << 20)
    return archive


class TestZipBomb:
    def test_the_bomb_is_as_small_as_reported(self, bomb):
        assert bomb.stat().st_size < 3_000_000

    def test_refused_when_listed_naming_the_member_the_ratio_and_the_fix(self, bomb):
        with pytest.raises(LimitError, match=r"study\.zip: export/IM0001\.dcm: 2\.0 GiB, larger than the 1\.0 GiB "
                                             r"file limit; if it is genuine, raise READINGROOM_MAX_FILE_SIZE"):
            list_source_files(bomb)

    def test_within_the_size_limit_the_ratio_still_refuses_it(self, bomb):
        with pytest.raises(LimitError, match=r"unpacks 10[0-9]{2} times larger than it is packed \(2\.0 MiB to 2\.0 "
                                             r"GiB\), beyond the 100:1 limit .* raise READINGROOM_MAX_ZIP_RATIO"):
            list_source_files(bomb, InputLimits(max_file_bytes=4 * GIB))

    def test_a_member_that_understates_its_size_is_read_no_further_than_it_says(self, lying_bomb):
        (member,) = list_source_files(lying_bomb)
        with pytest.raises(InputError, match=r"^IM0001\.dcm: damaged archive member \(Bad CRC-32 .*re-create the zip$"):
            member.open()

    @pytest.mark.parametrize("command", ["inspect", "snapshot", "deid", "new"])
    def test_every_command_refuses_it_in_one_line_in_little_memory_writing_nothing(self, bomb, tmp_path, command):
        cases = tmp_path / "cases"
        cases.mkdir()
        args = {"inspect": [bomb], "snapshot": [bomb, "-o", tmp_path / "out.png"],
                "deid": [bomb, "-o", tmp_path / "out", "--key", tmp_path / "key"],
                "new": ["Normal chest", "--from", bomb, "--cases", cases, "--key", tmp_path / "key"]}[command]
        ran = measured(command, *args)
        assert ran["status"] == 2
        assert ran["stderr"].strip().splitlines() == [
            f"error: {bomb}: export/IM0001.dcm: 2.0 GiB, larger than the 1.0 GiB file limit; if it is genuine, "
            "raise READINGROOM_MAX_FILE_SIZE (e.g. READINGROOM_MAX_FILE_SIZE=4G)"]
        assert ran["peak_mib"] < 400  # the interpreter and its imports; inflating would take 2 GiB or more
        assert sorted(p.name for p in tmp_path.iterdir()) == ["cases"] and not any(cases.iterdir())

    def test_a_lying_member_is_skipped_in_little_memory(self, lying_bomb):
        ran = measured("inspect", lying_bomb)
        assert ran["status"] == 2
        assert "IM0001.dcm: damaged archive member (Bad CRC-32" in ran["stderr"]
        assert "Traceback" not in ran["stderr"]
        assert ran["peak_mib"] < 400


def sparse_image(path: Path, template: Path, private_bytes: int) -> Path:
    """``template``'s image with a private value of ``private_bytes`` ahead of its pixels, as a sparse file."""
    ds = pydicom.dcmread(template)
    pixels = ds.PixelData
    del ds.PixelData
    ds.add_new(0x00090010, "LO", "RR TEST")
    ds.save_as(path, enforce_file_format=True)
    with open(path, "r+b") as fp:
        fp.seek(0, 2)
        fp.write(struct.pack("<HH2sHI", 0x0009, 0x1000, b"OB", 0, private_bytes))
        fp.seek(private_bytes, 1)  # a hole: no disk used
        fp.write(struct.pack("<HH2sHI", 0x7FE0, 0x0010, b"OW", 0, len(pixels)) + pixels)
    return path


class TestLargeFiles:
    def test_a_file_over_the_limit_is_refused_in_one_line(self, tmp_path, small_ct):
        big = sparse_image(tmp_path / "big.dcm", next(small_ct.iterdir()), 2 * GIB)
        ran = measured("inspect", big)
        assert ran["status"] == 2
        assert ran["stderr"].strip().splitlines() == [
            f"error: {big}: 2.0 GiB, larger than the 1.0 GiB file limit; if it is genuine, raise "
            "READINGROOM_MAX_FILE_SIZE (e.g. READINGROOM_MAX_FILE_SIZE=4G)"]

    def test_with_the_limit_raised_a_2_gib_header_value_is_never_read(self, tmp_path, small_ct):
        import os

        big = sparse_image(tmp_path / "big.dcm", next(small_ct.iterdir()), 2 * GIB)
        ran = measured("inspect", big, env={**os.environ, "READINGROOM_MAX_FILE_SIZE": "3G"})
        assert ran["status"] == 0, ran["stderr"]
        assert ran["peak_mib"] < 400

    def test_a_large_file_in_a_folder_is_skipped_the_others_opened(self, tmp_path, small_ct):
        sparse_image(small_ct / "zz-big.dcm", next(small_ct.iterdir()), 4 << 20)
        limited = open_path(small_ct, limits=InputLimits(max_file_bytes=2 << 20))
        assert limited.series[0].frame_count == 12
        assert [p.message for p in limited.problems] == [
            "zz-big.dcm: 4.0 MiB, larger than the 2.0 MiB file limit; if it is genuine, raise "
            "READINGROOM_MAX_FILE_SIZE (e.g. READINGROOM_MAX_FILE_SIZE=4G)"]


class TestHeaderBudget:
    def test_half_a_million_tiny_elements_are_refused_once_the_budget_is_read(self, tmp_path, small_ct):
        path = write_header_bomb(next(small_ct.iterdir()), tmp_path / "malformed.dcm")
        with pytest.raises(LimitError, match=r"^malformed\.dcm: its header holds more than 1\.0 MiB of values, so it "
                                             r"is probably malformed: re-export it, or if it is genuine raise "
                                             r"READINGROOM_MAX_HEADER_SIZE"):
            read_instance(SourceFile(label=path.name, path=path, limits=InputLimits(max_header_bytes=1 << 20)))
        assert read_instance(SourceFile(label=path.name, path=path, limits=InputLimits(max_header_bytes=64 << 20)))

    def test_a_large_value_read_later_comes_from_the_file(self, tmp_path, small_ct):
        path = sparse_image(tmp_path / "private.dcm", next(small_ct.iterdir()), 3 << 20)
        header = read_instance(SourceFile(label=path.name, path=path)).header
        assert len(header[0x00091000].value) == 3 << 20


class TestSettings:
    @pytest.mark.parametrize(("text", "size"), [("500M", 500 << 20), ("2G", 2 * GIB), ("1.5GiB", 3 * GIB // 2),
                                                ("1048576", 1 << 20)])
    def test_sizes(self, text, size):
        assert parse_size(text, "READINGROOM_MAX_FILE_SIZE") == size

    @pytest.mark.parametrize("text", ["", "big", "-1G", "0"])
    def test_bad_sizes_say_what_to_give(self, text):
        with pytest.raises(InputError, match=r"^READINGROOM_MAX_FILE_SIZE='.*': give a size such as 500M or 2G$"):
            parse_size(text, "READINGROOM_MAX_FILE_SIZE")

    def test_environment(self, monkeypatch):
        monkeypatch.setenv("READINGROOM_MAX_FILE_SIZE", "2G")
        monkeypatch.setenv("READINGROOM_MAX_HEADER_SIZE", "32M")
        monkeypatch.setenv("READINGROOM_MAX_ZIP_RATIO", "250")
        limits = InputLimits.from_environment()
        assert (limits.max_file_bytes, limits.max_header_bytes, limits.max_zip_ratio) == (2 * GIB, 32 << 20, 250)
        monkeypatch.setenv("READINGROOM_MAX_ZIP_RATIO", "lots")
        with pytest.raises(InputError, match=r"^READINGROOM_MAX_ZIP_RATIO='lots': give a number of at least 1"):
            InputLimits.from_environment()
