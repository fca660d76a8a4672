"""Live conferences of one serving process: how they start, who may speak in them, how they are found.

A :class:`Conference` is what the pages and the socket rely on:

- ``id``: the records store's session id (in every URL);
- ``token``: the presenter's secret (32 url-safe random bytes), checked with :meth:`Conference.is_presenter`
  against its digest; only the process that started (or resumed) the session holds the token itself;
- ``code``: the 6-character join code participants type;
- ``agenda``: one entry per case, in order: ``{"case": public id, "title", "presentation", "stages",
  "series": [{"uid", "number", "modality", "description", "count"}], "manifests": [frame manifests]}``;
  :meth:`Conference.agenda_for` gives a participant's copy, without the title (it names the diagnosis);
- ``room``: the live state (a :class:`~.rooms.LiveRoom`: in this process, or in Redis);
- ``names``: display names by participant id, of everyone who joined through this process;
- :meth:`Conference.ticket` / :meth:`Conference.participant_of`: a participant's ticket, an HMAC of
  (session, participant) with the conference's own secret, so it opens this session only and speaks as them only.

Code, token and secret are kept in the server's records journal (:mod:`readingroom.records.journal`),
so a conference a crash interrupted reopens with the links everyone holds (:meth:`Conferences.resume`).
With ``--redis`` they are also listed in Redis (:mod:`.directory`), so every process serving the
same cases can serve any live conference (:meth:`Conferences.find`, :meth:`Conferences.find_code`).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
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
from readingroom.server.conference.directory import Directory, Listing, token_digest
from readingroom.server.conference.messages import PRESENTER
from readingroom.server.conference.rooms import LiveRoom, LocalRooms, Rooms
from readingroom.server.gate import CaseGate

CODE_LENGTH = 6
log = logging.getLogger("readingroom.conference")
Progress = Callable[[int, int], None]


@dataclass
class Conference:
    session: ConferenceSession
    code: str
    agenda: list[dict]
    secret: bytes = field(repr=False)
    room: LiveRoom = field(repr=False)
    token_sha256: bytes = field(repr=False)
    token: str = field(default="", repr=False)  # "" on a process that did not start the session
    names: dict[int, str] = field(default_factory=dict)  # who joined here: their socket needs no database read
    _agenda_json: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def id(self) -> int:
        return self.session.id

    def is_presenter(self, token: str) -> bool:
        return hmac.compare_digest(token_digest(token), self.token_sha256)

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

    ``rooms`` keeps the rooms (in this process, or in Redis) and ``directory`` lists the
    conferences every process can serve (nothing beyond this process without Redis).
    ``recovered`` lists the sessions a crash had left open, closed at their last activity
    when this registry was made (see :meth:`recover`).
    """

    def __init__(self, catalog: Catalog, durable: DurableRecords, cache: FrameCache,
                 modules: Sequence[Module] = (), rooms: Rooms | None = None, directory: Directory | None = None) -> None:
        self.catalog, self.durable, self.records, self.cache = catalog, durable, durable.store, cache
        self.modules = {module.name: module for module in modules}
        self.rooms = rooms or LocalRooms()
        self.directory = directory or Directory()
        self._by_id: dict[int, Conference] = {}
        self._loading: dict[int, asyncio.Future] = {}
        self._lock = threading.Lock()
        self.recovered: list[ConferenceSession] = []

    def recover(self) -> list[ConferenceSession]:
        """Close the sessions this server left open by crashing, at their last recorded activity.

        What the journal still holds goes into the store first, so the last activity is the
        real one. Only this server's sessions (those in its journal) are touched, and none
        another live process still serves (through Redis): another process's live conference
        in a shared PostgreSQL is not closed.
        """
        self.durable.drain(timeout=60)
        known = [live.session_id for live in self.durable.journal.conferences()
                 if live.session_id not in self._by_id and not self.directory.served_elsewhere(live.session_id)]
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
        token, secret = secrets.token_urlsafe(32), secrets.token_bytes(32)
        with self._lock:
            code = _new_code({c.code for c in self._by_id.values()}, lambda c: self.directory.claim(c, session.id))
            conference = Conference(session, code, agenda, secret, self.rooms.room(session.id), token_digest(token),
                                    token)
            self.durable.journal.remember(LiveConference(session.id, code, token, secret))
            self.directory.publish(Listing(session.id, code, conference.token_sha256, secret))
            self._by_id[conference.id] = conference
        return conference

    def resume(self, session_id: int, progress: Progress | None = None) -> Conference:
        """Reopen a session this server started, with its join code, presenter link and participants' tickets.

        With Redis the room goes on where it was (other processes may be serving it still).
        """
        live = next((c for c in self.durable.journal.conferences() if c.session_id == session_id), None)
        if live is None:
            raise InputError(f"session {session_id} was not started by this server (its journal is "
                             f"{self.durable.journal.path}); start a new conference instead")
        try:
            session = self.records.session(session_id)
        except NotFoundError:
            raise InputError(f"session {session_id} is not in the records store; check --records") from None
        if session_id in self._by_id:
            raise InputError(f"session {session_id} is live already; use its presenter link")
        _, slugs = self.resolve(session.ref)
        agenda = self._agenda(slugs, progress)
        session = self.records.reopen_session(session_id)
        conference = Conference(session, live.code, agenda, live.secret, self.rooms.reopen(session_id),
                                token_digest(live.token), live.token, names=self.records.participants_in(session_id))
        self.directory.claim(live.code, session_id)
        self.directory.publish(Listing(session_id, live.code, conference.token_sha256, live.secret))
        self.directory.reopen(session_id)
        with self._lock:
            self._by_id[conference.id] = conference
        return conference

    def by_id(self, session_id: int) -> Conference | None:
        """The conference if this process serves it already (see :meth:`find` for any process's)."""
        return self._by_id.get(session_id)

    async def find(self, session_id: int) -> Conference | None:
        """The conference with this id, served here or (with Redis) listed by another process: then its
        agenda is rebuilt here, once however many sockets ask at the same moment."""
        found = self._by_id.get(session_id)
        if found is not None:
            return found
        loading = self._loading.get(session_id)
        if loading is None:
            loading = self._loading[session_id] = asyncio.ensure_future(self._load(session_id))
            loading.add_done_callback(lambda _: self._loading.pop(session_id, None))
        return await asyncio.shield(loading)

    async def _load(self, session_id: int) -> Conference | None:
        loop = asyncio.get_running_loop()
        listing = await loop.run_in_executor(None, self.directory.find, session_id)
        if listing is None:
            return None
        try:
            session = await loop.run_in_executor(None, self.records.session, session_id)
            _, slugs = await loop.run_in_executor(None, self.resolve, session.ref)  # the PHI gate may run
        except (NotFoundError, InputError) as error:  # another store, or cases this process does not serve
            log.warning("conference %s is listed in Redis but cannot be served here: %s", session_id, error)
            return None
        agenda = await loop.run_in_executor(None, self._agenda, slugs, None)
        conference = Conference(session, listing.code, agenda, listing.secret, self.rooms.room(session_id),
                                listing.token_digest)
        with self._lock:
            return self._by_id.setdefault(session_id, conference)

    async def find_code(self, code: str) -> Conference | None:
        """The live conference with this code; spaces, dashes and case are ignored (codes are read aloud)."""
        wanted = "".join(ch for ch in code.upper() if ch.isascii() and ch.isalnum())
        with self._lock:
            found = [c for c in self._by_id.values() if hmac.compare_digest(c.code, wanted)]
        if not found and len(wanted) == CODE_LENGTH:
            session_id = await asyncio.get_running_loop().run_in_executor(None, self.directory.session_of, wanted)
            conference = await self.find(session_id) if session_id is not None else None
            found = [conference] if conference is not None else []
        return found[0] if found and not await found[0].room.ended() else None

    async def end(self, conference: Conference) -> None:
        """The room has ended: whoever is connected leaves now, and the session ends now (through the journal).

        The conference stays findable by id (late sockets hear it ended), not by code.
        """
        now = datetime.now(UTC)
        for participant in await conference.room.connected():
            self.durable.keep(Entry(record_key("leave", conference.id), "leave", conference.id, participant, now))
        self.durable.keep(Entry(record_key("end", conference.id), "end", conference.id, None, now))

    def left(self, session_id: int, participants: list[int]) -> None:
        """Participants gone without a goodbye (their process stopped): each leaves now."""
        now = datetime.now(UTC)
        for participant in participants:
            self.durable.keep(Entry(record_key("leave", session_id), "leave", session_id, participant, now))

    def close_all(self) -> None:
        """The server is stopping: whoever is connected here leaves now; alone (no Redis), each conference ends now.

        Without this, attendance intervals would stay open and the session without an end, so
        minutes present (CME credit) could not be counted. With Redis the conferences go on
        in the other processes, where this one's participants reconnect.
        """
        for session_id, left in self.rooms.let_go().items():
            self.left(session_id, left)
            if self.rooms.ends_with_process:
                self.durable.keep(Entry(record_key("end", session_id), "end", session_id, None, datetime.now(UTC)))

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


def _new_code(taken: set[str], claim: Callable[[str], bool]) -> str:
    while True:
        code = readable_code(CODE_LENGTH)
        if code not in taken and claim(code):
            return code
