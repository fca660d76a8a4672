"""Case metadata: the JSON Schema in this package, and checks the schema cannot express."""

from __future__ import annotations

import json
from functools import lru_cache
from importlib import resources

METADATA_KEY = "readingroom"


@lru_cache(maxsize=1)
def case_schema() -> dict:
    return json.loads(resources.files("readingroom.case").joinpath("schema.json").read_text())


def metadata_problems(metadata: object) -> list[str]:
    """Every schema violation, each as "where: what is wrong"; empty when valid."""
    from jsonschema import Draft202012Validator

    if not isinstance(metadata, dict):
        return [f"notebook metadata has no `{METADATA_KEY}` object; run `readingroom new` or copy one from cases/"]
    validator = Draft202012Validator(case_schema())
    problems = []
    for error in sorted(validator.iter_errors(metadata), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "metadata"
        problems.append(f"{where}: {_explain(error)}")
    return problems


def _explain(error) -> str:
    if error.validator == "multipleOf" and list(error.absolute_path)[:1] == ["age"]:
        return f"adult ages are rounded to 5 years so a patient cannot be singled out (got {error.instance})"
    if error.validator == "enum":
        return f"{error.instance!r} is not one of: {', '.join(map(str, error.validator_value))}"
    if error.validator == "additionalProperties":
        return error.message.replace("Additional properties are not allowed", "unknown field(s)")
    return error.message


def round_age(years: int) -> int:
    """Adults to the nearest 5 years, 90 and over as 90; children unchanged."""
    if years < 18:
        return years
    return min(90, 5 * round(years / 5))
