"""The catalog: one card per servable case, as a page and as a JSON index.

Two indexes exist. The *unknown* index (the default) holds only what a trainee
may see before reading a case: presentation, modality, region, system,
difficulty and minutes; no title, diagnosis or tags (tags such as "normal"
give the answer away). The *known* index adds them. Cases failing the PHI
gate are in neither.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass, field

from readingroom.case.metadata import METADATA_KEY
from readingroom.server.gate import CaseGate, Verdict

UNKNOWN_FIELDS = ("presentation", "modalities", "region", "system", "difficulty", "minutes")
KNOWN_FIELDS = UNKNOWN_FIELDS + ("title", "diagnosis", "certainty", "tags")


def public_id(slug: str) -> str:
    """The case's name in URLs: slugs are made from the title, i.e. the diagnosis, so URLs never carry them."""
    return hashlib.sha256(slug.encode()).hexdigest()[:10]


@dataclass(frozen=True)
class Card:
    """A servable case at one version, with its notebook parsed once (stage pages read it, not the disk)."""

    slug: str
    version: str
    notebook: dict = field(repr=False, compare=False)

    @property
    def metadata(self) -> dict:
        return self.notebook.get("metadata", {}).get(METADATA_KEY) or {}

    @property
    def id(self) -> str:
        return public_id(self.slug)

    def entry(self, base: str, known: bool) -> dict:
        fields = KNOWN_FIELDS if known else UNKNOWN_FIELDS
        entry = {k: self.metadata[k] for k in fields if k in self.metadata}
        entry.update(id=self.id, url=f"{base}cases/{self.id}/",
                     thumbnail=f"{base}readingroom/thumbnails/{self.id}-{self.version}.jpg")
        if known:
            entry["slug"] = self.slug
        return entry


def version_of(signature: tuple) -> str:
    return hashlib.sha256(repr(signature).encode()).hexdigest()[:12]


class Catalog:
    """The servable cases under a folder, read afresh when their files change."""

    def __init__(self, gate: CaseGate):
        self.gate = gate
        self._cards: dict[str, Card] = {}

    def card(self, slug: str) -> Card | None:
        """The case's card, or None when it does not exist or fails the gate; blocks while it is checked."""
        return self._card(slug, self.gate.verdict(slug))

    async def checked_card(self, slug: str) -> Card | None:
        """:meth:`card` for the event loop: the gate's check, if the files changed, runs in a worker."""
        return self._card(slug, await self.gate.checked(slug))

    def _card(self, slug: str, verdict: Verdict) -> Card | None:
        if verdict.problems:
            return None
        version = version_of(verdict.signature)
        cached = self._cards.get(slug)
        if cached is None or cached.version != version:
            notebook = json.loads((self.gate.cases_dir / slug / "case.ipynb").read_text(encoding="utf-8"))
            cached = Card(slug, version, notebook)
            self._cards[slug] = cached
        return cached

    async def checked_by_id(self, case_id: str) -> Card | None:
        """The servable case with this public id, or None."""
        slug = self.slug_of(case_id)
        return await self.checked_card(slug) if slug else None

    def slug_of(self, case_id: str) -> str | None:
        return next((s for s in self.gate.slugs() if public_id(s) == case_id), None)

    def cards(self) -> list[Card]:
        return [card for card in map(self.card, self.gate.slugs()) if card is not None]

    async def checked_cards(self) -> list[Card]:
        found = await asyncio.gather(*map(self.checked_card, self.gate.slugs()))
        return [card for card in found if card is not None]

    async def index(self, base: str, known: bool) -> list[dict]:
        return [card.entry(base, known) for card in await self.checked_cards()]
