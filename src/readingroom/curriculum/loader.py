"""Read ``curriculum/<module>.yaml``: the JSON Schema in this package, then checks it cannot express.

``module_problems`` lists every problem (for ``readingroom check``); ``load_module`` refuses
a module with one line naming the file, the field and the fix.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from readingroom.curriculum.model import (
    AMA_CREDIT,
    DEFAULT_PASS_MARK,
    DEFAULT_POST_TEST_ATTEMPTS,
    SELF_STUDY,
    CreditDesignation,
    Faculty,
    Module,
    TestQuestion,
    designation_statement,
)
from readingroom.errors import InputError

MODULE_SUFFIX = ".yaml"
MAX_FILE_BYTES = 1_000_000
_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,99}$")
CASE_NOTEBOOK = "case.ipynb"


@lru_cache(maxsize=1)
def module_schema() -> dict:
    return json.loads(resources.files("readingroom.curriculum").joinpath("module.schema.json").read_text())


def load_module(path: Path, *, cases_root: Path | None = None) -> Module:
    """The module in ``path``; with ``cases_root``, its cases must exist there too."""
    data, problems = _read(path)
    if not problems:
        problems = schema_problems(data) or content_problems(data, cases_root)
    if problems:
        more = f" (and {len(problems) - 1} more; run `readingroom check {path}`)" if len(problems) > 1 else ""
        raise InputError(f"{path}: {problems[0]}{more}")
    return _module(path.stem, data)


def find_modules(folder: Path, *, cases_root: Path | None = None) -> list[Module]:
    """Every ``*.yaml`` module in ``folder``, sorted by name; none when the folder does not exist."""
    if not folder.is_dir():
        return []
    return [load_module(p, cases_root=cases_root) for p in sorted(folder.glob(f"*{MODULE_SUFFIX}"))]


def module_problems(path: Path, *, cases_root: Path | None = None) -> list[str]:
    """Every problem in one module file, each "field: what is wrong and the fix"; empty when valid."""
    data, problems = _read(path)
    if problems:
        return problems
    return schema_problems(data) or content_problems(data, cases_root)


def _read(path: Path) -> tuple[Any, list[str]]:
    import yaml

    if path.suffix != MODULE_SUFFIX:
        return None, [f"a module is a {MODULE_SUFFIX} file; rename it to {path.stem}{MODULE_SUFFIX}"]
    if not _NAME.match(path.stem):
        return None, [
            f"file name: {path.name!r} becomes the module's address; use lower case letters, digits and hyphens"
        ]
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            return None, [
                f"the file is over {MAX_FILE_BYTES // 1000} kB; a module lists cases, it does not contain them"
            ]
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, ["no such file; check the path"]
    except UnicodeDecodeError:
        return None, ["not UTF-8 text; save the file as UTF-8"]
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}: " if mark is not None else ""
        return None, [
            f"{where}not valid YAML ({getattr(error, 'problem', None) or error}); fix the indentation or quoting"
        ]
    if not isinstance(data, dict):
        return None, ["the file must hold a mapping of fields (title:, audience:, ...); copy one from curriculum/"]
    return data, []


def schema_problems(data: dict) -> list[str]:
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(module_schema())
    problems = []
    for error in sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path]):
        where = ".".join(str(p) for p in error.absolute_path)
        if error.validator == "required":
            problems += [
                f"{where + '.' if where else ''}{name}: missing; add a `{name}:` field"
                for name in error.validator_value
                if name not in error.instance
            ]
        else:
            problems.append(f"{where + ': ' if where else ''}{_explain(error)}")
    return problems


def _explain(error: Any) -> str:
    field = str(error.absolute_path[-1]) if error.absolute_path else ""
    if error.validator == "additionalProperties":
        unknown = sorted(set(error.instance) - set(error.schema.get("properties", {})))
        return f"unknown field(s) {', '.join(map(repr, unknown))}; remove them or check the spelling"
    if field == "pass_mark" and error.validator == "maximum":
        return f"{error.instance} is above 1; write the pass mark as a fraction, e.g. 0.75 for 75 %"
    if field == "max_credits" and error.validator == "multipleOf":
        return f"{error.instance} is not in quarter hours; use 0.25 steps, e.g. 1.0 or 1.25"
    if error.validator == "pattern":
        return f"{error.instance!r} must be lower case letters, digits and hyphens"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of: {', '.join(map(str, error.validator_value))}"
    return error.message


def content_problems(data: dict, cases_root: Path | None) -> list[str]:
    """What the schema cannot say: answer indexes, question ids, case references, credit vs time."""
    problems = []
    cases = data["cases"]
    for test in ("pre_test", "post_test"):
        seen: set[str] = set()
        for index, question in enumerate(data.get(test, [])):
            where = f"{test}.{index}"
            if question["answer"] >= len(question["options"]):
                problems.append(
                    f"{where}.answer: {question['answer']} is out of range; it counts options from 0, "
                    f"so it must be 0 to {len(question['options']) - 1}"
                )
            if question["id"] in seen:
                problems.append(
                    f"{where}.id: {question['id']!r} is used twice in {test}; give each question its own id"
                )
            seen.add(question["id"])
            if "case" in question and question["case"] not in cases:
                problems.append(
                    f"{where}.case: {question['case']!r} is not one of the module's cases; add it to cases:"
                )
    hours = data["minutes"] / 60
    if data["credit"]["max_credits"] > hours:
        problems.append(
            f"credit.max_credits: {data['credit']['max_credits']} hours is more than the estimated "
            f"{data['minutes']} minutes; credit cannot exceed the time the activity takes"
        )
    if cases_root is not None:
        problems += _missing_cases(cases, cases_root)
    return problems


def _missing_cases(cases: list[str], cases_root: Path) -> list[str]:
    if not cases_root.is_dir():
        return [f"cases: there is no case folder {cases_root} to find the module's cases in"]
    return [
        f"cases.{index}: no case {slug!r} in {cases_root}; check the slug or create the case with `readingroom new`"
        for index, slug in enumerate(cases)
        if not (cases_root / slug / CASE_NOTEBOOK).is_file()
    ]


def _module(name: str, data: dict) -> Module:
    credit = data["credit"]
    return Module(
        name=name,
        title=data["title"],
        audience=data["audience"],
        practice_gap=data["practice_gap"],
        objectives=tuple(data["objectives"]),
        cases=tuple(data["cases"]),
        pre_test=tuple(_question(q) for q in data.get("pre_test", [])),
        post_test=tuple(_question(q) for q in data["post_test"]),
        pass_mark=float(data.get("pass_mark", DEFAULT_PASS_MARK)),
        post_test_attempts=int(data.get("post_test_attempts", DEFAULT_POST_TEST_ATTEMPTS)),
        credit=CreditDesignation(
            max_credits=float(credit["max_credits"]),
            credit_type=credit.get("credit_type", AMA_CREDIT),
            statement=designation_statement(data["provider"], float(credit["max_credits"]), SELF_STUDY),
        ),
        faculty=tuple(Faculty(f["name"], f["role"], f["disclosure"]) for f in data["faculty"]),
        minutes=data["minutes"],
        provider=data["provider"],
    )


def _question(q: dict) -> TestQuestion:
    return TestQuestion(
        id=q["id"], prompt=q["prompt"], options=tuple(q["options"]), answer=q["answer"], case=q.get("case")
    )
