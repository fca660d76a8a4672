"""Module files: every mistake an author can make gets one line naming the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from readingroom.curriculum import (
    DEFAULT_PASS_MARK,
    designation_statement,
    find_modules,
    load_module,
    module_problems,
)
from readingroom.errors import InputError

from .conftest import valid_module

REPO = Path(__file__).resolve().parents[2]


def _set(path: str, value):
    """A change to the valid module: set ``a.b.0.c`` to ``value`` (None deletes it)."""

    def change(data: dict) -> dict:
        *parents, last = [int(p) if p.isdigit() else p for p in path.split(".")]
        target = data
        for part in parents:
            target = target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value
        return data

    return change


BROKEN = {
    "missing field": (_set("title", None), "title: missing; add a `title:` field"),
    "unknown field": (_set("titel", "x"), "unknown field(s) 'titel'; remove them or check the spelling"),
    "pass mark as percent": (
        _set("pass_mark", 75),
        "pass_mark: 75 is above 1; write the pass mark as a fraction, e.g. 0.75",
    ),
    "credit not in quarter hours": (_set("credit.max_credits", 1.1), "credit.max_credits: 1.1 is not in quarter hours"),
    "credit above the time": (
        _set("minutes", 30),
        "credit.max_credits: 1.0 hours is more than the estimated 30 minutes",
    ),
    "unknown credit type": (
        _set("credit.credit_type", "Gold stars"),
        "credit.credit_type: 'Gold stars' is not one of: AMA PRA",
    ),
    "answer out of range": (
        _set("post_test.0.answer", 4),
        "post_test.0.answer: 4 is out of range; it counts options from 0, so it must be 0 to 3",
    ),
    "duplicate question id": (_set("post_test.1.id", "post-1"), "post_test.1.id: 'post-1' is used twice in post_test"),
    "question about another case": (
        _set("pre_test.0.case", "case-three"),
        "pre_test.0.case: 'case-three' is not one of the module's cases",
    ),
    "case slug not a slug": (
        _set("cases.1", "Case Two"),
        "cases.1: 'Case Two' must be lower case letters, digits and hyphens",
    ),
    "case missing on disk": (_set("cases.1", "case-three"), "cases.1: no case 'case-three' in"),
    "empty post-test": (_set("post_test", []), "post_test: [] should be non-empty"),
    "no disclosure": (_set("faculty.0.disclosure", None), "faculty.0.disclosure: missing"),
    "wrong type": (_set("minutes", "an hour"), "minutes: 'an hour' is not of type 'integer'"),
}


@pytest.mark.parametrize("change, message", BROKEN.values(), ids=BROKEN.keys())
def test_each_mistake_has_its_one_line_message(write_module, tree, change, message):
    path = write_module(change(valid_module()))
    with pytest.raises(InputError) as caught:
        load_module(path, cases_root=tree / "cases")
    text = str(caught.value)
    assert text.startswith(f"{path}: ") and message in text
    assert "\n" not in text
    assert any(message in p for p in module_problems(path, cases_root=tree / "cases"))


def test_several_mistakes_say_how_many_more(write_module):
    data = valid_module()
    data["pass_mark"] = 75
    del data["title"]
    path = write_module(data)
    with pytest.raises(InputError, match=r"\(and 1 more; run `readingroom check .*test-module.yaml`\)"):
        load_module(path)
    assert len(module_problems(path)) == 2


@pytest.mark.parametrize(
    "text, message",
    [
        ("title: [unclosed\n", "line 2: not valid YAML"),
        ("- just\n- a list\n", "the file must hold a mapping of fields"),
        ("", "the file must hold a mapping of fields"),
    ],
)
def test_unreadable_files(write_module, text, message):
    with pytest.raises(InputError, match=message):
        load_module(write_module(text))


def test_file_names_become_addresses(write_module):
    path = write_module(valid_module(), name="My Module")
    with pytest.raises(InputError, match="file name: 'My Module.yaml' becomes the module's address"):
        load_module(path)


def test_missing_file(tree):
    with pytest.raises(InputError, match="no such file"):
        load_module(tree / "curriculum" / "absent.yaml")


def test_defaults_and_values(write_module, tree):
    module = load_module(write_module(valid_module()), cases_root=tree / "cases")
    assert module.name == "test-module"
    assert module.pass_mark == DEFAULT_PASS_MARK == 0.75
    assert module.credit.credit_type == "AMA PRA Category 1 Credit"
    assert module.credit.max_quarter_hours == 4
    assert module.cases == ("case-one", "case-two")
    assert module.pre_test[0].case == "case-one" and module.post_test[0].case is None
    assert [q.id for q in module.evaluation] == [
        "quality",
        "objectives-met",
        "practice-change",
        "free-of-bias",
        "bias-detail",
    ]


def test_find_modules_sorted_by_name(write_module, tree):
    write_module(valid_module(), name="zeta")
    write_module(valid_module(), name="alpha")
    assert [m.name for m in find_modules(tree / "curriculum")] == ["alpha", "zeta"]
    assert find_modules(tree / "nowhere") == []


class TestDesignationStatement:
    def test_enduring_material(self):
        assert designation_statement("Example CME Office", 0.75, "self-study") == (
            "Example CME Office designates this enduring material for a maximum of 0.75 AMA PRA Category 1 "
            "Credits\u2122. Physicians should claim only the credit commensurate with the extent of their "
            "participation in the activity."
        )

    def test_live_activity_with_one_credit(self):
        statement = designation_statement("Example CME Office", 1, "live")
        assert "designates this live activity for a maximum of 1.0 AMA PRA Category 1 Credit\u2122." in statement

    def test_module_carries_the_self_study_statement(self, write_module):
        module = load_module(write_module(valid_module()))
        assert module.credit.statement == designation_statement("Example CME Office", 1.0, "self-study")


def test_repository_modules_are_valid():
    modules = find_modules(REPO / "curriculum", cases_root=REPO / "cases")
    assert modules, "the repository ships at least one sample module"
    for module in modules:
        assert 3 <= len(module.post_test) <= 5 and module.objectives and module.faculty
        assert module.credit.max_credits * 60 <= module.minutes
