"""``/readingroom/conference/<id>/replay``: a past session, its voice with the presenter's views in step.

Who may replay: anyone signed in (a local account, or the single-sign-on proxy's user), as
for the curriculum modules; the cases are the de-identified teaching cases every signed-in
learner may open, and the recording holds no participant's name or answer. A session is
replayed only after it ended (a live one is joined with its code).

- ``.../replay``: the page: the same viewer module and frames as the participant page
  (``widgets/replay.js``), the voice as Opus (or a clock when no voice was recorded), a seek
  bar, chapters at each case, reveal and poll, poll results as they were shown;
- ``.../replay/recording.ogg``: the voice, with range requests (the browser seeks in it);
- ``.../replay/stages/<k>?case=``: stage k of a case, if it was revealed during the session.

A signed-in learner's time on a replay counts as self-study time on the module the conference
was about, through the modules' own heartbeat (``learning/time_on_task.js``); live credit is
for live attendance only and is not touched here.
"""

from __future__ import annotations

import re
import urllib.parse
from collections import OrderedDict
from pathlib import Path

import jinja2
from tornado import web
from tornado.ioloop import IOLoop

from readingroom.errors import InputError
from readingroom.records import ConferenceSession, NotFoundError, Participant
from readingroom.server.base import CASE_ID, PlainHandler, base_of
from readingroom.server.conference import replay, replay_audio
from readingroom.server.conference.pages import ConferenceStageHandler, _config_json
from readingroom.server.conference.recordings import RECORDING, session_folder
from readingroom.server.conference.rooms import RoomsUnavailable
from readingroom.server.conference.sessions import Conferences
from readingroom.server.identity import current_user
from readingroom.widgets.assets import modules_version

AGENDAS_KEPT = 16  # sessions whose agenda (frame manifests) is held for their replay stages
SIGN_IN = "Sign in to replay a conference."


class Replays:
    """What the replay handlers share: the sessions, the recordings root, the modules, recent agendas."""

    def __init__(self, conferences: Conferences, root: Path) -> None:
        self.conferences, self.root, self.store = conferences, root, conferences.records
        self._agendas: OrderedDict[int, list[dict]] = OrderedDict()

    async def session(self, session_id: int) -> ConferenceSession:
        """The session, once it has ended; 404 or 409 saying why not otherwise."""
        try:
            session = self.store.session(session_id)
        except NotFoundError:
            raise web.HTTPError(404, "No such conference session.") from None
        try:
            live = await self.conferences.find(session_id)  # ended there: its end may not be in the store yet
        except RoomsUnavailable:
            raise web.HTTPError(503, "The conference's room store is unreachable for a moment: try again.") from None
        if (live is not None and not await live.room.ended()) or (live is None and session.ends_at is None):
            raise web.HTTPError(409, "This conference is still live: join it with its code; its replay opens "
                                "once it has ended.")
        return session

    async def recording(self, session_id: int) -> replay.Recording:
        """The session's recording, read off the event loop (an hour's timeline is megabytes of JSON)."""
        try:
            return await IOLoop.current().run_in_executor(None, replay.load, self.root, session_id)
        except InputError:
            raise web.HTTPError(404, "This conference was not recorded, so it cannot be replayed.") from None

    async def agenda(self, session: ConferenceSession) -> list[dict]:
        """The participants' agenda (no titles: they name the diagnosis), from the cases as served now."""
        if session.id not in self._agendas:
            try:
                agenda = await IOLoop.current().run_in_executor(None, self.conferences.agenda_of, session)
            except InputError as error:  # a case since removed, or failing the checks
                raise web.HTTPError(404, f"This conference's cases cannot be shown: {error}") from None
            self._agendas[session.id] = [{k: v for k, v in entry.items() if k != "title"} for entry in agenda]
            while len(self._agendas) > AGENDAS_KEPT:
                self._agendas.popitem(last=False)
        self._agendas.move_to_end(session.id)
        return self._agendas[session.id]

    def module_for(self, session: ConferenceSession) -> str | None:
        """The module whose self-study time a replay counts for: the conference's module, or the one module
        holding its case (None when no module, or several, hold it)."""
        modules = self.conferences.modules
        if session.kind == "module":
            return session.ref if session.ref in modules else None
        holding = [name for name, module in modules.items() if session.ref in module.cases]
        return holding[0] if len(holding) == 1 else None


class _ReplayHandler(PlainHandler):
    def initialize(self, replays: Replays, environment: jinja2.Environment | None = None) -> None:
        self.replays, self.environment = replays, environment

    def signed_in(self) -> Participant:
        """The signed-in user; a page request is sent to sign in and back, anything else gets 403."""
        user = current_user(self, self.replays.store)
        if user is None:
            if self.request.path.endswith("/replay"):
                target = urllib.parse.urlencode({"next": self.request.uri})
                self.redirect(f"{base_of(self)}signin?{target}")
                raise web.Finish()
            raise web.HTTPError(403, SIGN_IN)
        return user


class ReplayPageHandler(_ReplayHandler):
    """GET ``/readingroom/conference/<id>/replay``."""

    async def get(self, session_id: str) -> None:
        user = self.signed_in()
        session = await self.replays.session(int(session_id))
        recording = await self.replays.recording(session.id)
        agenda = await self.replays.agenda(session)
        base = base_of(self)
        module = self.replays.module_for(session)
        here = f"{base}readingroom/conference/{session.id}/replay"
        config = {
            "base": base, "session": session.id, "agenda": agenda, "events": recording.events,
            "chapters": recording.chapters, "duration": recording.duration,
            "audio": f"{here}/{RECORDING}" if recording.voice else None,
            "heartbeat": f"{base}modules/{module}/heartbeat" if module else None, "module": module,
            "xsrf": self.xsrf_token.decode(),
        }
        self.set_header("Cache-Control", "no-store")
        self.finish(self.environment.get_template("conference/replay.html").render(
            base=base, version=modules_version(), module="replay.js", body_class="rr-page",
            config_json=_config_json(config), user=user.display_name, credit_module=module,
            voice=recording.voice is not None, started=session.starts_at))


class ReplayAudioHandler(web.StaticFileHandler):
    """GET ``.../replay/recording.ogg``: the voice as Opus, made from Janus's WAV the first time it is asked for."""

    def initialize(self, replays: Replays) -> None:
        super().initialize(path=str(replays.root))
        self.replays = replays

    async def get(self, session_id: str, include_body: bool = True) -> None:
        if current_user(self, self.replays.store) is None:
            raise web.HTTPError(403, SIGN_IN)
        session = await self.replays.session(int(session_id))
        folder = session_folder(self.replays.root, session.id)
        try:
            made = await IOLoop.current().run_in_executor(None, replay_audio.opus_copy, folder)
        except InputError as error:
            raise web.HTTPError(503, str(error)) from None
        if made is None:
            raise web.HTTPError(404, "No voice was recorded in this conference.")
        await super().get(str(made.relative_to(self.replays.root)), include_body)

    def set_extra_headers(self, path: str) -> None:
        self.set_header("Cache-Control", "private, max-age=3600")  # for signed-in users only: no shared cache

    def write_error(self, status_code: int, **kwargs) -> None:
        PlainHandler.write_error(self, status_code, **kwargs)  # one line, never a traceback


class ReplayStageHandler(ConferenceStageHandler):
    """GET ``.../replay/stages/<k>?case=``: stage k of a case, when it was revealed during the session."""

    def initialize(self, replays: Replays, **stage_pages) -> None:
        super().initialize(**stage_pages)
        self.replays = replays

    async def get(self, session_id: str, number: str) -> None:
        if current_user(self, self.replays.store) is None:
            raise web.HTTPError(403, SIGN_IN)
        session = await self.replays.session(int(session_id))
        case_id, k = self.get_argument("case", ""), int(number)
        if not re.fullmatch(CASE_ID, case_id):
            raise web.HTTPError(400, "Missing or malformed case= (the case's public id).")
        if k > (await self.replays.recording(session.id)).revealed().get(case_id, -1):
            raise web.HTTPError(403, "That stage was not revealed during this conference.")
        await self.send_stage(await self.replays.agenda(session), case_id, k)


def replay_routes(conference: str, replays: Replays, environment: jinja2.Environment, stage_pages: dict) -> list[tuple]:
    """The replay's rules under ``conference`` (the pattern of ``.../readingroom/conference/<id>``)."""
    return [
        (rf"{conference}/replay", ReplayPageHandler, {"replays": replays, "environment": environment}),
        (rf"{conference}/replay/{re.escape(RECORDING)}", ReplayAudioHandler, {"replays": replays}),
        (rf"{conference}/replay/stages/([0-9]{{1,3}})", ReplayStageHandler, {"replays": replays, **stage_pages}),
    ]
