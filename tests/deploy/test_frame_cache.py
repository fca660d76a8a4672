"""docs/deploy.md: a frame cache per machine (or per pod) works as well as a shared one, because encoding is deterministic.

A case page made by one process names frames by their digest; another process, with a cache of its
own, must have written the very same bytes under the very same names, or those frames are missing
there. Two separate Python processes encode the sample case's series into two caches here.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conference.conftest import CASE, CASES

ENCODE = """
import json, sys
from readingroom.dicom import open_path
from readingroom.frames import FrameCache, encode_series
print(json.dumps([encode_series(s, FrameCache(sys.argv[2])) for s in open_path(sys.argv[1]).series]))
"""


def encoded_in_own_process(cache) -> list[dict]:
    done = subprocess.run([sys.executable, "-c", ENCODE, str(CASES / CASE / "images"), str(cache)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


def test_two_processes_with_their_own_caches_name_every_frame_alike(tmp_path):
    first, second = encoded_in_own_process(tmp_path / "machine-a"), encoded_in_own_process(tmp_path / "machine-b")
    assert first[0]["lossless"] and first[0]["preview"]
    assert first == second  # every digest alike: the names one page holds are in the other cache too
