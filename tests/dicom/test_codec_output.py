"""What C codecs print goes to the error of the decode that failed, and nothing else printed is lost.

The codecs write to file descriptor 2 directly, so these tests write there with os.write,
as C does, and read the real descriptor back with capfd.
"""

from __future__ import annotations

import os
import threading

import pytest

from readingroom.dicom import decode_frame, open_path
from readingroom.dicom.codec_output import codec_output
from readingroom.errors import DecodeError

CORRUPT_J2K = "JPEG2000-embedded-sequence-delimiter.dcm"  # its tile count is garbage: openjpeg complains in C


def test_a_corrupt_file_leaves_stderr_clean_and_its_error_holds_the_codecs_words(pydicom_files, capfd):
    frame = open_path(pydicom_files / CORRUPT_J2K).series[0].frames[0]
    with pytest.raises(DecodeError, match=rf"^{CORRUPT_J2K}: cannot decode JPEG 2000 Image Compression pixel data: "
                                          r"pylibjpeg: .*failed to read the header") as caught:
        decode_frame(frame)
    assert "\n" not in str(caught.value)
    assert capfd.readouterr().err == ""
    assert "Invalid number of tiles" in "\n".join(caught.value.__notes__)  # for --debug


def test_what_is_printed_during_a_decode_that_succeeds_reaches_stderr(capfd):
    with codec_output():
        os.write(2, b"a server's log line\n")
    assert capfd.readouterr().err == "a server's log line\n"


def test_a_failing_decode_claims_only_its_own_window(capfd):
    """Two threads decoding at once: what one printed before the other began is not the other's."""
    first_wrote, second_done = threading.Event(), threading.Event()
    claimed = {}

    def failing():
        first_wrote.wait(10)
        with codec_output() as printed:
            os.write(2, b"codec: corrupt tile\n")
            claimed["text"] = printed.claim()
        second_done.set()

    other = threading.Thread(target=failing)
    with codec_output():
        os.write(2, b"before\n")
        other.start()
        first_wrote.set()
        second_done.wait(10)
        os.write(2, b"after\n")
    other.join(10)
    assert claimed["text"] == "codec: corrupt tile"
    assert capfd.readouterr().err == "before\nafter\n"
