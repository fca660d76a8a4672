"""Live conferences of one serving process: how they start, who may speak in them, how they are found.

A :class:`Conference` is what the pages and the socket rely on:

- ``id``: the records store's session id (in every URL);
- ``token``: the presenter's secret (32 url-safe random bytes), checked with :meth:`Conference.is_presenter`;
- ``code``: the 6-character join code participants type;
- ``agenda``: one entry per case, in order: ``{"case": public id, "title", "presentation", "stages",
  "series": [{"uid", "number", "modality", "description", "count"}], "manifests": [frame manifests]}``;
  :meth:`Conference.agenda_for` gives a participant's copy, without the title (it names the diagnosis);
- ``room``: the live state (:class:`~.room.Room`: ``seq``, ``view``, ``poll``, ``ended`` ...);
- ``names``: display names by participant id, of everyone who joined through this process;
- :meth:`Conference.ticket` / :meth:`Conference.participant_of`: a participant's ticket, an HMAC of
  (session, participant) with the server's secret, so it opens this session only and speaks as them only.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from readingroom.curriculum import Module
from readingroom.errors import InputError
from readingroom.frames import FrameCache, encode_series
from readingroom.records import ConferenceSession, RecordsStore, readable_code
from readingroom.server.catalog import Catalog, public_id
from readingroom.server.gate import CaseGate
from readingroom.server.conference.messages import PRESENTER
from readingroom.server.conference.room import Room

CODE_LENGTH = 6
Progress = Callable[[int, int], None]


@dataclass
class Conference:
    session: ConferenceSession
    token: str
    code: str
    agenda: list[dict]
    secret: bytes = field(repr=False)
    room: Room = field(default_factory=Room)
    names: dict[int, str] = field(default_factory=dict)  # who joined here: their socket needs no database read
    _agenda_json: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> int:
        return self.session.id

    def is_presenter(self, token: str) -> bool:
        return hmac.compare_digest(token.encode(), self.token.encode())

    def ticket(self, participant: int) -> str:
        return f"{participant}.{self._mac(participant)}"

    def participant_of(self, ticket: str) -> int | None:
        """The participant a ticket was issued to for *this* session, or None for anything else."""
        number, _, mac = ticket.partition(".")
        if not number.isdigit() or len(number) > 18:
            return None
        participant = int(number)
        return participant if hmac.compare_digest(mac.encode(), self._mac(participant).encode()) else None

    def agenda_for(self, role: str) -> list[dict]:
        if role == PRESENTER:
            return self.agenda
        return [{k: v for k, v in entry.items() if k != "title"} for entry in self.agenda]

    def agenda_json(self, role: str) -> str:
        """:meth:`agenda_for` serialised once: every welcome carries it (a long series' manifest is tens of KB)."""
        if role not in self._agenda_json:
            self._agenda_json[role] = json.dumps(self.agenda_for(role))
        return self._agenda_json[role]

    def _mac(self, participant: int) -> str:
        message = f"conference:{self.id}:{participant}".encode()
        return hmac.new(self.secret, message, hashlib.sha256).hexdigest()


class Conferences:
    """The registry: start a conference on a case (or a module's cases, in order), find it by id or join code."""

    def __init__(self, catalog: Catalog, records: RecordsStore, cache: FrameCache, secret: bytes,
                 modules: Sequence[Module] = ()) -> None:
        self.catalog, self.records, self.cache, self.secret = catalog, records, cache, secret
        self.modules = {module.name: module for module in modules}
        self._by_id: dict[int, Conference] = {}
        self._lock = threading.Lock()

    def resolve(self, name: str) -> tuple[str, list[str]]:
        """``("case", [slug])`` or ``("module", its slugs in order)``; :class:`InputError` naming the fix otherwise."""
        cases_dir = self.catalog.gate.cases_dir
        kind = presentable_kind(name, cases_dir, self.modules)
        slugs = [name] if kind == "case" else list(self.modules[name].cases)
        for slug in slugs:
            problems = self.catalog.gate.problems(slug)
            if problems:
                raise InputError(f"{slug}: this case cannot be presented: {problems[0]}; fix it "
                                 f"(readingroom check {cases_dir / slug}) and start again")
        return kind, slugs

    def start(self, name: str, progress: Progress | None = None) -> Conference:
        """A new conference: every series encoded (cached ones are reused), a session in the records store."""
        kind, slugs = self.resolve(name)
        agenda = self._agenda(slugs, progress)
        session = self.records.create_session(kind, name, datetime.now(UTC))
        with self._lock:
            codes = {c.code for c in self._by_id.values()}
            code = _new_code(codes)
            conference = Conference(session, secrets.token_urlsafe(32), code, agenda, self.secret)
            self._by_id[conference.id] = conference
        return conference

    def by_id(self, session_id: int) -> Conference | None:
        return self._by_id.get(session_id)

    def by_code(self, code: str) -> Conference | None:
        """The live conference with this code; spaces, dashes and case are ignored (codes are read aloud)."""
        wanted = "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())
        with self._lock:
            found = [c for c in self._by_id.values() if hmac.compare_digest(c.code, wanted)]
        return found[0] if found and not found[0].room.ended else None

    def end(self, conference: Conference) -> None:
        """Record the end; the conference stays findable by id (late sockets hear it ended), not by code."""
        self.records.end_session(conference.id, datetime.now(UTC))

    def close_all(self) -> None:
        """The server is stopping: each live conference ends now, and whoever is still connected leaves now.

        Without this, attendance intervals would stay open and the session without an end, so
        minutes present (CME credit) could not be counted.
        """
        now = datetime.now(UTC)
        for conference in list(self._by_id.values()):
            if conference.room.ended:
                continue
            conference.room.end()
            for member in conference.room.members.values():
                if member.connections:
                    self.records.record_leave(conference.id, member.id, now)
            self.records.end_session(conference.id, now)

    async def servable(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """For the educator's form: ``(slug, title)`` of every case a conference can be started on, and
        ``(name, title)`` of every module whose cases can all be presented."""
        cards = await self.catalog.checked_cards()
        passing = {card.slug for card in cards}
        cases = [(card.slug, str(card.metadata.get("title") or card.slug)) for card in cards]
        return cases, [(m.name, m.title) for m in self.modules.values() if all(s in passing for s in m.cases)]

    def _agenda(self, slugs: list[str], progress: Progress | None) -> list[dict]:
        from readingroom.case.roles import stages

        cases_dir = self.catalog.gate.cases_dir
        agenda = []
        for done, slug in enumerate(slugs, start=1):
            series = self.catalog.gate.jobs.wait(encode_case, cases_dir / slug / "images", self.cache.root)
            if progress:
                progress(done, len(slugs))
            card = self.catalog.card(slug)
            agenda.append({
                "case": public_id(slug), "title": str(card.metadata.get("title") or slug),
                "presentation": str(card.metadata.get("presentation") or ""), "stages": len(stages(card.notebook)),
                "series": [{k: v for k, v in one.items() if k != "manifest"} for one in series],
                "manifests": [one["manifest"] for one in series],
            })
        return agenda


def encode_case(images: Path, cache_root: Path) -> list[dict]:
    """Every series of a case encoded into the frame cache: what the agenda lists of it, with its manifest.

    A plain function: the serving app runs it in a worker process (:mod:`readingroom.server.dicom_jobs`).
    """
    from readingroom.dicom import open_path

    cache = FrameCache(cache_root)
    return [{"uid": s.uid, "number": s.number, "modality": s.modality, "description": s.description,
             "count": s.frame_count, "manifest": encode_series(s, cache)} for s in open_path(images).series]


def presentable_kind(name: str, cases_dir: Path, module_names: Collection[str]) -> str:
    """``"case"`` or ``"module"``: what ``name`` names; :class:`InputError` listing what there is otherwise.

    Cheap (no case is checked, no module read), so the CLI can refuse a typo before starting a server.
    """
    if (cases_dir / name / "case.ipynb").is_file():
        return "case"
    if name in module_names:
        return "module"
    cases = ", ".join(CaseGate(cases_dir).slugs()) or "none"
    modules = f"; modules: {', '.join(sorted(module_names))}" if module_names else ""
    raise InputError(f"{name}: no such case in {cases_dir} nor module; cases there: {cases}{modules}")


def _new_code(taken: set[str]) -> str:
    while True:
        code = readable_code(CODE_LENGTH)
        if code not in taken:
            return code
