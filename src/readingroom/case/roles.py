"""Cell roles and the staged reveal.

An educator tags cells with their role (history, images, question, findings,
differential, diagnosis, discussion, teaching-points, references). A cell tagged
``reveal`` is a reveal point: what follows it is hidden from the audience until
the presenter (or the trainee) reveals that stage. The answer roles must never
come before the first reveal point, or the unknown is spoiled.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("history", "images", "question", "findings", "differential", "diagnosis", "discussion", "teaching-points", "references")
REVEAL = "reveal"
ANSWER_ROLES = frozenset({"findings", "differential", "diagnosis", "discussion", "teaching-points"})


@dataclass(frozen=True)
class Stage:
    """Cells shown together: stage 0 is the unknown, each reveal point opens the next."""

    number: int
    cell_indices: tuple[int, ...]


def cell_roles(cell: dict) -> list[str]:
    tags = cell.get("metadata", {}).get("tags", [])
    return [t for t in tags if t in ROLES or t == REVEAL]


def stages(notebook: dict) -> list[Stage]:
    """Split the notebook's cells at each reveal point (the reveal cell opens its stage)."""
    groups: list[list[int]] = [[]]
    for index, cell in enumerate(notebook["cells"]):
        if REVEAL in cell_roles(cell):
            groups.append([])
        groups[-1].append(index)
    return [Stage(number, tuple(indices)) for number, indices in enumerate(groups)]


def unknown_tags(notebook: dict) -> list[tuple[int, str]]:
    """Tags that look like roles but are not one (typos such as "teaching-point")."""
    known = set(ROLES) | {REVEAL}
    found = []
    for index, cell in enumerate(notebook["cells"]):
        for tag in cell.get("metadata", {}).get("tags", []):
            if tag not in known and any(_near(tag, role) for role in known):
                found.append((index, tag))
    return found


def _near(tag: str, role: str) -> bool:
    tag, role = tag.lower().replace("_", "-"), role
    return tag != role and (tag.rstrip("s") == role.rstrip("s") or tag.replace(" ", "-") == role)
