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
  (session, participant) with the conference's own secret, so it opens this session only and speaks as them only.

Code, token and secret are kept in the server's records journal (:mod:`readingroom.records.journal`),
so a conference a crash interrupted reopens with the links everyone holds (:meth:`Conferences.resume`).
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
from readingroom.records import ConferenceSession, NotFoundError, readable_code
from readingroom.records.durable import DurableRecords
from readingroom.records.journal import Entry, LiveConference
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
    """The registry: start (or resume) a conference on a case or a module's cases, find it by id or join code.

    ``recovered`` lists the sessions a crash had left open, closed at their last activity
    when this registry was made (see :meth:`recover`).
    """

    def __init__(self, catalog: Catalog, durable: DurableRecords, cache: FrameCache,
                 modules: Sequence[Module] = ()) -> None:
        self.catalog, self.durable, self.records, self.cache = catalog, durable, durable.store, cache
        self.modules = {module.name: module for module in modules}
        self._by_id: dict[int, Conference] = {}
        self._lock = threading.Lock()
        self.recovered: list[ConferenceSession] = []

    def recover(self) -> list[ConferenceSession]:
        """Close the sessions this server left open by crashing, at their last recorded activity.

        What the journal still holds goes into the store first, so the last activity is the
        real one. Only this server's sessions (those in its journal) are touched: another
        process's live conference in a shared PostgreSQL is not closed.
        """
        self.durable.drain(timeout=60)
        known = [live.session_id for live in self.durable.journal.conferences() if live.session_id not in self._by_id]
        self.recovered = [self.records.close_at_last_activity(session) for session in self.records.open_sessions(known)]
        return self.recovered

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
            code = _new_code({c.code for c in self._by_id.values()})
            conference = Conference(session, secrets.token_urlsafe(32), code, agenda, secrets.token_bytes(32))
            self.durable.journal.remember(LiveConference(session.id, code, conference.token, conference.secret))
            self._by_id[conference.id] = conference
        return conference

    def resume(self, session_id: int, progress: Progress | None = None) -> Conference:
        """Reopen a session this server started, with its join code, presenter link and participants' tickets."""
        live = next((c for c in self.durable.journal.conferences() if c.session_id == session_id), None)
        if live is None:
            raise InputError(f"session {session_id} was not started by this server (its journal is "
                             f"{self.durable.journal.path}); start a new conference instead")
        try:
            session = self.records.session(session_id)
        except NotFoundError:
            raise InputError(f"session {session_id} is not in the records store; check --records") from None
        running = self._by_id.get(session_id)
        if running is not None and not running.room.ended:
            raise InputError(f"session {session_id} is live already; use its presenter link")
        _, slugs = self.resolve(session.ref)
        agenda = self._agenda(slugs, progress)
        session = self.records.reopen_session(session_id)
        conference = Conference(session, live.token, live.code, agenda, live.secret,
                                names=self.records.participants_in(session_id))
        with self._lock:
            self._by_id[conference.id] = conference
        return conference

    def agenda_of(self, session: ConferenceSession) -> list[dict]:
        """A session's agenda, live or past (its series found in the frame cache, or encoded again): for its replay."""
        live = self._by_id.get(session.id)
        if live is not None:
            return live.agenda
        _, slugs = self.resolve(session.ref)
        return self._agenda(slugs, None)

    def by_id(self, session_id: int) -> Conference | None:
        return self._by_id.get(session_id)

    def by_code(self, code: str) -> Conference | None:
        """The live conference with this code; spaces, dashes and case are ignored (codes are read aloud)."""
        wanted = "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())
        with self._lock:
            found = [c for c in self._by_id.values() if hmac.compare_digest(c.code, wanted)]
        return found[0] if found and not found[0].room.ended else None

    def end(self, conference: Conference) -> None:
        """The room has ended: whoever is connected leaves now, and the session ends now (through the journal).

        The conference stays findable by id (late sockets hear it ended), not by code.
        """
        now = datetime.now(UTC)
        for member in conference.room.members.values():
            if member.connections:
                self.durable.keep(Entry(record_key("leave", conference.id), "leave", conference.id, member.id, now))
        self.durable.keep(Entry(record_key("end", conference.id), "end", conference.id, None, now))

    def close_all(self) -> None:
        """The server is stopping: each live conference ends now, and whoever is still connected leaves now.

        Without this, attendance intervals would stay open and the session without an end, so
        minutes present (CME credit) could not be counted.
        """
        for conference in list(self._by_id.values()):
            if not conference.room.ended:
                conference.room.end()
                self.end(conference)

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


def record_key(kind: str, session_id: int) -> str:
    """A fresh idempotency key for a record the server makes (a join, a leave, an end)."""
    return f"{kind}:{session_id}:{secrets.token_hex(12)}"


def _new_code(taken: set[str]) -> str:
    while True:
        code = readable_code(CODE_LENGTH)
        if code not in taken:
            return code
