"""A valid module to break one field at a time, and the records store on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml


CASES = ("case-one", "case-two")


def valid_module() -> dict:
    """A small module whose fields each pass; tests change one at a time."""
    question = {"prompt": "Which sign is shown here?", "options": ["A", "B", "C", "D"], "answer": 2}
    return copy.deepcopy(
        {
            "title": "Test module",
            "audience": "Rural generalists",
            "practice_gap": "Missed findings on first reads",
            "objectives": ["Identify the sign on CT", "Describe the mass effect"],
            "cases": list(CASES),
            "pre_test": [{"id": "pre-1", "case": "case-one", **question}],
            "post_test": [{"id": f"post-{i}", **question} for i in range(1, 5)],
            "credit": {"max_credits": 1.0},
            "faculty": [
                {"name": "Dr Example", "role": "Course director", "disclosure": "No relevant financial relationships"}
            ],
            "minutes": 60,
            "provider": "Example CME Office",
        }
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A repo-like folder: cases/<slug>/case.ipynb and an empty curriculum/."""
    for slug in CASES:
        (tmp_path / "cases" / slug).mkdir(parents=True)
        (tmp_path / "cases" / slug / "case.ipynb").write_text("{}")
    (tmp_path / "curriculum").mkdir()
    return tmp_path


@pytest.fixture
def write_module(tree: Path):
    def write(data: dict | str, name: str = "test-module") -> Path:
        path = tree / "curriculum" / f"{name}.yaml"
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return path

    return write
