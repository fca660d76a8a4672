"""``readingroom serve``: the public serving app, ReadingroomVoila plus the catalog and case pages.

A subclass rather than edits to :mod:`readingroom.server.voila_app`: the frames
app stays usable alone (one notebook), and everything public-facing is set here
with safe defaults: no files served next to notebooks, the case-page template,
the unknown view of each case (see :mod:`readingroom.server.stages`), kernels
only for live cases, preheated once a case is found live, held one per visitor under
a budget (:mod:`readingroom.server.live_kernels`) and culled when idle, and secrets
kept out of the log.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
from jupyter_server.services.contents.largefilemanager import LargeFileManager
from tornado.ioloop import IOLoop
from traitlets import Bool, Bytes, Int, List, Unicode

from readingroom.curriculum import find_modules
from readingroom.frames import FrameCache, default_cache_dir
from readingroom.records import RecordsStore, default_url
from readingroom.records.durable import DurableRecords
from readingroom.records.journal import Journal, journal_path
from readingroom.server.base import PUBLIC_URL_SETTING, TEMPLATES, template_environment
from readingroom.server.case_pages import CasePages
from readingroom.server.catalog import Card, Catalog, public_id, version_of
from readingroom.server.conference import recordings
from readingroom.server.conference.recordings import RECORD_SETTING, RECORDINGS_SETTING
from readingroom.server.conference.routes import conference_routes
from readingroom.server.conference.sessions import Conferences
from readingroom.server.conference.timeline import Timelines
from readingroom.server.conference.voice import DEFAULT_BITRATE, Voice, VoiceSettings
from readingroom.server.forwarded import TRUSTED_PROXIES_SETTING, trusted_networks
from readingroom.server.dicom_jobs import DicomJobs, default_workers
from readingroom.server.gate import CaseGate, folder_signature
from readingroom.inflow.drafts import default_inbox
from readingroom.server.inbox import inbox_routes
from readingroom.server.learning import curriculum_folder, learning_routes, offline_routes
from readingroom.server.learning.offline_records import SITE_ORIGINS_SETTING, site_origins
from readingroom.server.live_kernels import KernelBudget, default_cap
from readingroom.server.handlers import route_base
from readingroom.server.identity import HUB_SETTING, TRUSTED_HEADER_SETTING
from readingroom.server.log_scrub import keep_secrets_out_of_logs
from readingroom.server.pages import catalog_routes
from readingroom.server.shared import shared_state
from readingroom.server.stages import unknown_view
from readingroom.server.voila_app import ReadingroomVoila

CASE_TEMPLATE = TEMPLATES / "voila" / "readingroom"


class UnknownCaseContents(LargeFileManager):
    """Hands Voila the unknown view of ``<slug>/case.ipynb``: later stages never reach the kernel or the page."""

    secret = Bytes(b"")

    def get(self, path, content=True, type=None, format=None, **kwargs):
        model = super().get(path, content=content, type=type, format=format, **kwargs)
        parts = Path(path.strip("/")).parts
        if content and model.get("type") == "notebook" and len(parts) == 2 and parts[1] == "case.ipynb":
            slug = parts[0]
            version = version_of(folder_signature(Path(self.root_dir) / slug))
            view = unknown_view(model["content"], case_id=public_id(slug), secret=self.secret, version=version)
            model["content"] = nbformat.from_dict(view)
        return model


class ServeVoila(ReadingroomVoila):
    name = "readingroom-serve"
    description = "The readingroom catalog and case pages, on standalone Voila."

    pool_size = Int(1, config=True, help="Kernels kept preheated per live case, one whose notebook uses widgets "
                    "that need a kernel (0 turns preheating off); other cases need none. "
                    "Example: readingroom serve cases --ServeVoila.pool_size=2")
    cull_idle_timeout = Int(600, config=True, help="Seconds a kernel may sit idle with no page open before it is "
                            "shut down. Example: --ServeVoila.cull_idle_timeout=300")
    max_live_kernels = Int(0, config=True, help="Kernels visitors of live case pages may hold at once, one each; "
                           "beyond it they queue, offered the case without a kernel meanwhile (0: as many as fit "
                           "in three quarters of the memory available at start-up, about 120 MB each). "
                           "Example: --ServeVoila.max_live_kernels=20")
    cull_interval = Int(60, config=True, help="Seconds between idle-kernel sweeps. Example: --ServeVoila.cull_interval=30")
    dicom_workers = Int(default_workers(), config=True, help="Worker processes for DICOM work that requests "
                        "trigger (the PHI gate re-checking an edited case, thumbnails, a conference's encoding), so "
                        "none of it holds up the event loop (0: in a thread instead). "
                        "Example: --ServeVoila.dicom_workers=1")
    reveal_secret = Unicode("", config=True, help="Secret signing the reveal keys; share it between processes behind "
                            "a load balancer (default: random per process). Example: --ServeVoila.reveal_secret=$SECRET")

    records_url = Unicode("", config=True, help="Records store (attendance, answers, accounts, certificates): a "
                          "SQLAlchemy URL; default $READINGROOM_RECORDS or ~/.local/share/readingroom/records.sqlite. "
                          "Example: --ServeVoila.records_url=postgresql+psycopg://rr@db/readingroom")
    journal = Unicode("", config=True, help="Local journal where attendance and answers are kept until the records "
                      "store has them (a SQLite file; keep it on this machine's own disk); default beside a SQLite "
                      "store, else in ~/.local/share/readingroom. Example: --ServeVoila.journal=/var/lib/rr/journal")
    redis_url = Unicode("", config=True, help="Redis for several serving processes behind one address: conference "
                        "rooms, join codes, tickets and the limits on wrong codes and answer attempts are shared "
                        "there, so any process serves any participant (default: none, all in this process). Keep "
                        "Redis private to these processes. Example: --ServeVoila.redis_url=redis://10.0.0.5:6379/0")
    curriculum_dir = Unicode("", config=True, help="Folder of curriculum modules (<name>.yaml); default the "
                             "curriculum/ folder next to the cases folder. "
                             "Example: --ServeVoila.curriculum_dir=/srv/curriculum")

    inbox_dir = Unicode("", config=True, help="Where `readingroom receive` puts drafts, shown to educators at "
                        "/readingroom/inbox; default ~/.local/share/readingroom/inbox. "
                        "Example: --ServeVoila.inbox_dir=/srv/readingroom/inbox")
    public_url = Unicode("", config=True, help="The address users open (behind a proxy, not the one it forwards "
                         "to), for join QR codes and the verification URL on certificates. "
                         "Example: --ServeVoila.public_url=https://rr.hospital.org")
    trusted_user_header = Unicode("", config=True, help="Behind a single-sign-on proxy (e.g. oauth2-proxy with the "
                                  "hospital's OIDC provider): the request header naming the signed-in user; local "
                                  "passwords are then unused. Only when that proxy is the sole way in. "
                                  "Example: --ServeVoila.trusted_user_header=X-Forwarded-Preferred-Username")
    jupyterhub = Bool(False, config=True, help="Run as a JupyterHub service: people sign in through the hub, "
                      "whose JUPYTERHUB_* variables (set by the hub for a service it starts) say where it is; serve "
                      "under the service's prefix (--Voila.base_url=/services/readingroom/). Hub admins are educators. "
                      "Example: --ServeVoila.jupyterhub=True")
    educator_group = Unicode("", config=True, help="With jupyterhub: members of this hub group are educators too. "
                             "Example: --ServeVoila.educator_group=educators")
    trusted_proxies = List(Unicode(), config=True, help="Addresses or networks of the TLS proxy in front: only "
                           "from these are X-Forwarded-For (who the client is, for the limits on wrong codes and "
                           "passwords) and X-Forwarded-Proto (https: cookies are then Secure) believed. "
                           "Example: --ServeVoila.trusted_proxies=127.0.0.1")
    recordings_dir = Unicode("", config=True, help="Where each conference's recording is kept (a folder per session: "
                             "the timeline, the voice, its Opus copy for replay); share it between processes serving "
                             "one site; default ~/.local/share/readingroom/recordings. "
                             "Example: --ServeVoila.recordings_dir=/srv/readingroom/recordings")
    record = Bool(True, config=True, help="Record conferences (their timeline and voice) for replay and export; "
                  "participants are told a session is recorded. Example: --ServeVoila.record=False")

    site_origins = List(Unicode(), config=True, help="Origins of static sites (readingroom build --server) whose "
                        "pages send their learners' records here, with the sign-in cookie (CORS for these only). "
                        "Example: --ServeVoila.site_origins=https://teaching.hospital.org")

    voice = Bool(False, config=True, help="Voice in live conferences: a Janus AudioBridge started as a child "
                 "process (or the one --ServeVoila.janus_url names). Example: --ServeVoila.voice=True")
    janus_url = Unicode("", config=True, help="A running Janus's HTTP API to use for voice instead of starting one. "
                        "Example: --ServeVoila.janus_url=http://127.0.0.1:8088/janus")
    janus_api_secret = Unicode("", config=True, help="The api_secret of the Janus at janus_url, if it has one.")
    janus_admin_key = Unicode("", config=True, help="The AudioBridge admin_key of the Janus at janus_url, if it has one.")
    ice_servers = List(Unicode(), config=True, help="STUN/TURN servers handed to browsers for voice, as JSON "
                       "RTCIceServer objects. Example: --ServeVoila.ice_servers='{\"urls\": \"stun:stun.example.org\"}'")
    voice_interface = Unicode("", config=True, help="Where Janus offers media (ICE candidates): interface names or "
                              "addresses, comma-separated; default this machine's main address when serving "
                              "127.0.0.1, else every interface. For a multi-homed server, or a veth carrying "
                              "127.0.0.2. Example: --ServeVoila.voice_interface=eth1")
    voice_bitrate = Int(DEFAULT_BITRATE, config=True, help="Bits per second of each listener's Opus stream (mono). "
                        "Example: --ServeVoila.voice_bitrate=16000")

    def initialize(self, argv=None):
        super().initialize(argv)
        keep_secrets_out_of_logs(self.log)  # presenter links and tickets travel in URLs
        conf = self.voila_configuration
        conf.file_allowlist, conf.file_denylist = [], [".*"]  # nothing next to a notebook is served raw
        conf.strip_sources, conf.show_tracebacks = True, False
        conf.allow_template_override = conf.allow_theme_override = "NO"
        self._secret = self.reveal_secret.encode() or os.urandom(32)
        self.hub = None
        if self.jupyterhub:
            from readingroom.server.hub import HubSignIn  # JupyterHub is imported only by its services

            self.hub = HubSignIn.from_environment(route_base(self.base_url), self.educator_group)
        self.dicom_jobs = DicomJobs(self.dicom_workers)
        self.catalog = Catalog(CaseGate(Path(self.root_dir), self.dicom_jobs, self.log))
        self.records = RecordsStore(self.records_url or default_url())
        self.records.ensure_schema()  # a store behind this version: one line naming `readingroom records upgrade`
        journal = Journal(Path(self.journal) if self.journal else journal_path(self.records.url), self.records.url)
        self.durable = DurableRecords(self.records, journal)
        cases = Path(self.root_dir)
        self.modules = find_modules(curriculum_folder(self.curriculum_dir, cases), cases_root=cases)
        self.shared = shared_state(self.redis_url)
        self.conferences = Conferences(self.catalog, self.durable, FrameCache(self.frame_cache or default_cache_dir()),
                                       self.modules, self.shared.rooms, self.shared.directory)
        self.timelines = Timelines(self.recordings_root, self.record)
        self.janus = None  # the child Janus, when this process started one
        self.voice_settings = self._voice_settings()
        for session in self.conferences.recover():
            self.log.warning("readingroom: conference session %d was left open by a crash; closed at its last "
                             "activity, %s (resume it with: readingroom conference resume %d)",
                             session.id, session.ends_at.isoformat(timespec="seconds"), session.id)

    @property
    def recordings_root(self) -> Path:
        return Path(self.recordings_dir) if self.recordings_dir else recordings.default_root()

    def _voice_settings(self) -> VoiceSettings:
        """Voice as configured; starts Janus here when voice is on and no running one was named."""
        import json

        from readingroom.server.conference import janus_process

        settings = VoiceSettings(ice_servers=[json.loads(server) for server in self.ice_servers],
                                 bitrate=self.voice_bitrate, record=self.record,
                                 recordings_root=self.recordings_root)
        if self.voice and self.janus_url:
            settings.janus_url, settings.api_secret = self.janus_url, self.janus_api_secret
            settings.admin_key = self.janus_admin_key
        elif self.voice:
            default = janus_process.own_address() if janus_process.loopback(self.ip) else ""
            interfaces = janus_process.media_interfaces(self.voice_interface) if self.voice_interface else default
            self.janus = janus_process.JanusProcess(ice_interfaces=interfaces).start()
            settings.janus_url, settings.api_secret = self.janus.url, self.janus.config.api_secret
            settings.admin_key = self.janus.config.admin_key
        return settings

    def setup_template_dirs(self) -> None:
        super().setup_template_dirs()
        self.template_paths.insert(0, str(CASE_TEMPLATE))
        self.template_paths.append(str(TEMPLATES / "learning"))  # last: only for time_on_task.js on case pages

    def stop(self) -> None:
        self.conferences.close_all()  # attendance and session ends are recorded before the process goes
        self.timelines.close()  # and the timelines end and are written
        self.durable.close()  # a last try to put the journal into the store; what is left waits for the next start
        self.case_pages.stop()  # a case still running at start-up would keep its kernel, and the process, alive
        self.dicom_jobs.stop()
        if self.janus is not None:
            self.janus.stop()  # its rooms close, and with them each recording's WAV file
        super().stop()

    def init_settings(self) -> dict:
        conf = self.voila_configuration
        conf.preheat_kernel = self.pool_size > 0
        conf.default_pool_size = self.pool_size
        self.config.MappingKernelManager.cull_idle_timeout = self.cull_idle_timeout
        self.config.MappingKernelManager.cull_interval = self.cull_interval
        self.config.MappingKernelManager.cull_connected = False
        self.config.MappingKernelManager.transport_encryption = "auto"  # why: readingroom.case.execute
        # No kernel is preheated at start-up: most case pages need none (readingroom.server.case_pages);
        # a case found to be live gets its pool when it has been run (see _preheat).
        self.config.VoilaKernelManager.preheat_denylist = [".*"]
        # Markdown and HTML outputs of the cases Voila serves live go through nh3 too (server/sanitize.py).
        self.config.VoilaExporter.sanitize_html = True
        self.config.VoilaExporter.filters = {"clean_html": "readingroom.server.sanitize.clean_html"}
        settings = super().init_settings()
        self.contents_manager = UnknownCaseContents(parent=self, root_dir=self.root_dir, secret=self._secret)
        settings["contents_manager"] = self.contents_manager
        settings[TRUSTED_HEADER_SETTING] = self.trusted_user_header
        settings[HUB_SETTING] = self.hub
        settings[PUBLIC_URL_SETTING] = self.public_url
        settings[TRUSTED_PROXIES_SETTING] = trusted_networks(self.trusted_proxies)
        settings[RECORDINGS_SETTING] = self.recordings_root
        settings[RECORD_SETTING] = self.record
        settings[SITE_ORIGINS_SETTING] = site_origins(self.site_origins)
        if self.voice_settings.janus_url:  # here, not at start-up: the links come first in the output
            self.log.info("readingroom: voice through Janus (AudioBridge) at %s%s", self.voice_settings.janus_url,
                          f", its log in {self.janus.log_path}" if self.janus else "")
        servable = len(self.catalog.cards())
        self.log.info("readingroom: %d case(s) served from %s; %d withheld", servable, self.root_dir,
                      len(self.catalog.gate.slugs()) - servable)
        return settings

    def _preheat(self, card: Card) -> None:
        """A live case (its notebook needs a kernel per visitor): keep Voila kernels ready for it."""
        if self.pool_size > 0 and hasattr(self.kernel_manager, "fill_if_needed"):
            self.kernel_manager.fill_if_needed(delay=0, notebook_name=f"{card.slug}/case.ipynb")

    def init_handlers(self) -> list:
        voila_kwargs = {"template_paths": self.template_paths, "config": self.config,
                        "voila_configuration": self.voila_configuration}
        self.case_pages = CasePages(Path(self.root_dir), self._secret, template_environment(), self.log,
                                    on_live=self._preheat)
        IOLoop.current().add_callback(self.case_pages.prepare, self.catalog.cards())  # run every case once, ahead
        ours = conference_routes(self.server_url or self.base_url, self.conferences, self.catalog, self._secret,
                                 self.case_pages, self.timelines, Voice(self.voice_settings), self.shared)
        budget = KernelBudget(self.max_live_kernels or default_cap())
        self.log.info("readingroom: live case pages may hold %d kernel(s) at once", budget.cap)
        ours += catalog_routes(self.server_url or self.base_url, self.catalog, self.records, self._secret,
                               self.case_pages, budget, voila_kwargs, self.shared.attempts())
        ours += learning_routes(self.server_url or self.base_url, self.records, self.modules, self.shared.limiter)
        ours += offline_routes(self.server_url or self.base_url, self.records, self.modules, self.catalog,
                               self.case_pages, self._secret, FrameCache(self.frame_cache or default_cache_dir()))
        ours += inbox_routes(self.server_url or self.base_url, Path(self.inbox_dir) if self.inbox_dir else default_inbox(),
                             Path(self.root_dir), self.records)
        if self.hub is not None:
            from readingroom.server.hub import hub_routes

            ours += hub_routes(route_base(self.server_url or self.base_url), self.hub)
        return ours + super().init_handlers()


main = ServeVoila.launch_instance

if __name__ == "__main__":
    main()
