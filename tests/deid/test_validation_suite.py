"""The MIDI-B-style validation: every action of the answer key, done right by `readingroom deid`.

The corpus and key live in readingroom.deid.validation (the benchmark scores other tools on
them too). The score is printed; anything under 100 % lists the actions done wrong (file,
attribute, action; never a value).
"""

from __future__ import annotations

import pytest

from readingroom.deid import deidentify
from readingroom.deid.validation import ACTIONS, build_corpus, score
from tests.system_packages import require


@pytest.fixture(scope="module")
def validation(tmp_path_factory):
    require("tesseract")
    root = tmp_path_factory.mktemp("validation")
    corpus = build_corpus(root / "source")
    deidentify(corpus.root, root / "out", key_path=root / "k" / "deid.key", workers=1)
    return corpus, root


def test_every_action_of_the_key_is_done_right(validation, capsys):
    corpus, root = validation
    result = score(corpus, root / "out")
    with capsys.disabled():
        print(f"\ndeid validation: {result.percent:.1f} % of {result.total} actions right "
              + ", ".join(f"{a} {r}/{t}" for a, (r, t) in result.by_action.items()))
    assert result.wrong == []
    assert result.percent == 100.0


def test_the_key_covers_every_action_and_the_issue_13_holes(validation):
    corpus, _ = validation
    actions = {e.action for e in corpus.key}
    assert actions == set(ACTIONS)
    paths = {e.path[0] for e in corpus.key}
    assert {"CreatorVersionUID", "PerformedProcedureStepDescription", "SeriesDescription"} <= paths
    assert sum(e.action == "pixels hidden" for e in corpus.key) == 8  # name and ID, in four images


def test_the_scorer_fails_what_was_not_done(validation):
    corpus, _ = validation
    untouched = score(corpus, corpus.root)  # the identified sources, scored as if they were an output
    assert untouched.by_action["retained"][0] == untouched.by_action["retained"][1]
    assert all(untouched.by_action[a][0] == 0 for a in ACTIONS if a not in ("retained", "pixels retained"))
