"""A module's steps in order, and where a participant stands in them (the saved ``position``).

Steps: disclosures, pre-test (when the module has one), one per case, post-test,
evaluation, certificate. ``position`` counts the steps done; the step at ``position``
is where the page resumes. Cases are opened in order, so "case 2 opened" is just
"position is past case 2".
"""

from __future__ import annotations

from dataclasses import dataclass

from readingroom.curriculum import Module
from readingroom.server.catalog import public_id

CASES = "cases"


def step_keys(module: Module) -> tuple[str, ...]:
    pre = ("pre-test",) if module.pre_test else ()
    cases = tuple(f"case-{index}" for index in range(len(module.cases)))
    return ("disclosures", *pre, *cases, "post-test", "evaluation", "certificate")


def section_of(key: str) -> str:
    """The page section a step belongs to: every case step is in the one "cases" section."""
    return CASES if key.startswith("case-") else key


@dataclass(frozen=True)
class CaseLink:
    id: str
    label: str
    opened: bool
    reachable: bool


@dataclass(frozen=True)
class Standing:
    """One participant's place in one module, as the page shows it."""

    keys: tuple[str, ...]
    position: int
    case_ids: tuple[str, ...]

    @classmethod
    def of(cls, module: Module, position: int) -> Standing:
        keys = step_keys(module)
        return cls(keys, min(max(position, 0), len(keys)), tuple(public_id(slug) for slug in module.cases))

    @property
    def current(self) -> str | None:
        """The section to resume at; None once every step is done."""
        return section_of(self.keys[self.position]) if self.position < len(self.keys) else None

    def index(self, key: str) -> int:
        return self.keys.index(key)

    def done(self, section: str) -> bool:
        last = max(i for i, key in enumerate(self.keys) if section_of(key) == section)
        return self.position > last

    @property
    def cases(self) -> list[CaseLink]:
        first = self.index("case-0")
        return [CaseLink(case_id, f"Case {n + 1}", self.position > first + n, self.position >= first + n)
                for n, case_id in enumerate(self.case_ids)]

    def after(self, key: str) -> int:
        """The position once ``key`` is done: never moves backwards, never skips a step not yet reached."""
        index = self.index(key)
        return max(self.position, index + 1) if self.position >= index else self.position
