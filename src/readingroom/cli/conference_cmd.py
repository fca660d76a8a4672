"""`readingroom conference start` / `resume`: serve the app with a live conference on a case, print how to join.

The same serving app as `readingroom serve`, with one conference created (or reopened
after a crash, with the links people hold) before it listens, so the links printed are
live the moment the server is.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from readingroom.cli.app import app
from readingroom.cli.progress import progress_bar
from readingroom.cli.serve_cmd import REDIS_HELP, proxy_arguments, public_address, recording_arguments, redis_arguments
from readingroom.errors import InputError

conference_app = typer.Typer(no_args_is_help=True,
                             help="Live case conferences: a presenter drives every participant's view.")
app.add_typer(conference_app, name="conference")


CasesOption = Annotated[Path | None, typer.Option("--cases", help="Folder holding the cases; default: cases/ here, or "
                                                 "the folder of the case given as a path.", show_default=False)]
CurriculumOption = Annotated[Path | None, typer.Option(
    "--curriculum", help="Folder of curriculum modules (<name>.yaml); default: curriculum/ next to the cases.")]
PortOption = Annotated[int, typer.Option("--port", help="Port to listen on.")]
IpOption = Annotated[str, typer.Option("--ip", help="Address to listen on; 0.0.0.0 for every interface.")]
RecordsOption = Annotated[str, typer.Option("--records", help="Records store URL (attendance for CME credit); default "
                                            "$READINGROOM_RECORDS or ~/.local/share/readingroom/records.sqlite.")]
JournalOption = Annotated[Path | None, typer.Option(
    "--journal", help="Local file keeping attendance and answers until the records store has them, and what "
    "reopens a conference after a crash; default beside a SQLite store, else in ~/.local/share/readingroom.")]
PublicUrlOption = Annotated[str, typer.Option(
    "--public-url", help="The address participants use, printed in the links and the QR code, "
    "e.g. https://rr.hospital.org (default http://IP:PORT).")]
RedisOption = Annotated[str, typer.Option("--redis", help=REDIS_HELP)]
QrOption = Annotated[Path | None, typer.Option("--qr", help="Where to write the join link's QR code (PNG, for "
                                               "slides); default conference-<CODE>.png here.")]
RecordingsOption = Annotated[Path | None, typer.Option(
    "--recordings", help="Folder keeping each session's recording (timeline and voice) for replay and export; "
    "default ~/.local/share/readingroom/recordings.")]
NoRecordOption = Annotated[bool, typer.Option(
    "--no-record", help="Keep no recording of this session (no replay, no export); otherwise participants are told "
    "it is recorded.")]
TrustedProxyOption = Annotated[list[str] | None, typer.Option(
    "--trusted-proxy", help="The address (or network) of your TLS proxy, e.g. 127.0.0.1; repeat for several. Only "
    "from it are X-Forwarded-For and X-Forwarded-Proto believed (limits per client, Secure cookies over https).")]
NoVoiceOption = Annotated[bool, typer.Option("--no-voice", help="No voice: participants follow the images only.")]
JanusUrlOption = Annotated[str, typer.Option(
    "--janus-url", help="Use this running Janus (its HTTP API, e.g. http://127.0.0.1:8088/janus) for voice instead "
    "of starting one; it needs the AudioBridge plugin.")]
StunOption = Annotated[list[str] | None, typer.Option(
    "--stun", help="A STUN server for participants behind NAT, e.g. stun:stun.hospital.org:3478; repeat for several.")]
TurnOption = Annotated[list[str] | None, typer.Option(
    "--turn", help="A TURN server relaying voice for participants behind strict firewalls, e.g. "
    "turn:turn.hospital.org:3478?transport=tcp; repeat for several (with --turn-user and --turn-password).")]
TurnUserOption = Annotated[str, typer.Option("--turn-user", help="The TURN servers' user name.")]
TurnPasswordOption = Annotated[str, typer.Option("--turn-password", help="The TURN servers' password.")]
VoiceInterfaceOption = Annotated[str, typer.Option(
    "--voice-interface", help="Where Janus offers voice media: an interface or address of this machine, e.g. eth1 or "
    "10.0.0.5 (comma-separate several); default this machine's main address when serving 127.0.0.1, else every "
    "interface.")]
BitrateOption = Annotated[int, typer.Option("--voice-kbps", help="Each listener's voice stream in kbit/s "
                                            "(Opus, mono, with in-band FEC); 16-24 suits speech on a rural link.")]


def voice_arguments(no_voice: bool, janus_url: str, stun: list[str] | None, turn: list[str] | None, turn_user: str,
                    turn_password: str, kbps: int, interface: str = "") -> list[str]:
    """The voice options checked (one line on a mistake), as the serving app's options."""
    import json

    if not 6 <= kbps <= 64:
        raise InputError(f"--voice-kbps {kbps}: give 6 to 64 (kbit/s; 16-24 suits speech)")
    if janus_url and not janus_url.startswith(("http://", "https://")):
        raise InputError(f"--janus-url {janus_url}: give the HTTP API's address, e.g. http://127.0.0.1:8088/janus")
    if interface:
        from readingroom.server.conference.janus_process import media_interfaces

        interface = media_interfaces(interface)
    servers = []
    for url in stun or []:
        if not url.startswith("stun:"):
            raise InputError(f"--stun {url}: a STUN server's address starts with stun:, e.g. stun:stun.example.org")
        servers.append({"urls": url})
    for url in turn or []:
        if not url.startswith(("turn:", "turns:")):
            raise InputError(f"--turn {url}: a TURN server's address starts with turn: or turns:")
        if not (turn_user and turn_password):
            raise InputError("--turn needs --turn-user and --turn-password")
        servers.append({"urls": url, "username": turn_user, "credential": turn_password})
    return [f"--ServeVoila.voice={not no_voice}", f"--ServeVoila.voice_bitrate={kbps * 1000}",
            *([f"--ServeVoila.janus_url={janus_url}"] if janus_url else []),
            *([f"--ServeVoila.voice_interface={interface}"] if interface else []),
            *[f"--ServeVoila.ice_servers={json.dumps(server)}" for server in servers]]


@conference_app.command()
def start(
    what: Annotated[str, typer.Argument(help="The case (its folder, e.g. cases/<slug>, or its name under --cases) or the "
                                        "module (its file, e.g. curriculum/<name>.yaml, or its name under --curriculum; "
                                        "its cases in order) to present.", show_default=False)],
    cases: CasesOption = None, curriculum: CurriculumOption = None, port: PortOption = 8866,
    ip: IpOption = "127.0.0.1", records: RecordsOption = "", journal: JournalOption = None,
    public_url: PublicUrlOption = "", qr: QrOption = None, trusted_proxy: TrustedProxyOption = None,
    recordings: RecordingsOption = None, no_record: NoRecordOption = False,
    no_voice: NoVoiceOption = False, janus_url: JanusUrlOption = "", stun: StunOption = None, turn: TurnOption = None,
    turn_user: TurnUserOption = "", turn_password: TurnPasswordOption = "", voice_kbps: BitrateOption = 24,
    voice_interface: VoiceInterfaceOption = "", redis: RedisOption = "",
) -> None:
    """Start a conference on a case or a module; print the presenter link (secret), join link, code and QR code.

    If this server crashed during a conference on the same case or module, that one is
    reopened instead, with the same code and links.
    """
    what, cases, curriculum = _named(what, cases, curriculum)
    voice = voice_arguments(no_voice, janus_url, stun, turn, turn_user, turn_password, voice_kbps, voice_interface)
    server, base = _server(cases, curriculum, port, ip, records, journal, public_url, qr, trusted_proxy, what,
                           [*recording_arguments(recordings, no_record), *voice, *redis_arguments(redis)])
    server.conferences.resolve(what)  # a case failing the checks, a broken module: one line before anything is written
    crashed = next((s for s in server.conferences.recovered if s.ref == what), None)
    with progress_bar("Encoding the images") as update:
        if crashed is not None:
            conference = server.conferences.resume(crashed.id, progress=update)
        else:
            conference = server.conferences.start(what, progress=update)
    if crashed is not None:
        sys.stdout.write(f"Resumed session {conference.id}, left open by a crash: the same code and links as before\n")
    _announce(server, base, conference, qr)


@conference_app.command()
def resume(
    session: Annotated[int, typer.Argument(help="The conference session id (in its links, and in "
                                           "`readingroom records attendance`).", show_default=False)],
    cases: CasesOption = None, curriculum: CurriculumOption = None, port: PortOption = 8866,
    ip: IpOption = "127.0.0.1", records: RecordsOption = "", journal: JournalOption = None,
    public_url: PublicUrlOption = "", qr: QrOption = None, trusted_proxy: TrustedProxyOption = None,
    recordings: RecordingsOption = None, no_record: NoRecordOption = False,
    no_voice: NoVoiceOption = False, janus_url: JanusUrlOption = "", stun: StunOption = None, turn: TurnOption = None,
    turn_user: TurnUserOption = "", turn_password: TurnPasswordOption = "", voice_kbps: BitrateOption = 24,
    voice_interface: VoiceInterfaceOption = "", redis: RedisOption = "",
) -> None:
    """Reopen a conference this server ran, with the same join code, presenter link and participants' links."""
    voice = voice_arguments(no_voice, janus_url, stun, turn, turn_user, turn_password, voice_kbps, voice_interface)
    server, base = _server(cases or Path("cases"), curriculum, port, ip, records, journal, public_url, qr,
                           trusted_proxy, None, [*recording_arguments(recordings, no_record), *voice,
                            *redis_arguments(redis)])
    with progress_bar("Encoding the images") as update:
        conference = server.conferences.resume(session, progress=update)
    sys.stdout.write(f"Resumed session {conference.id}: the same code and links as before\n")
    _announce(server, base, conference, qr)


@conference_app.command()
def export(
    session: Annotated[int, typer.Argument(help="The conference session id (in its links, and in "
                                           "`readingroom records attendance`).", show_default=False)],
    out: Annotated[Path, typer.Option("-o", "--out", help="Folder to write recording.ogg (the voice as Opus) and "
                                      "timeline.json (chapters and events, t in seconds from the recording's start) "
                                      "into.", show_default=False)],
    recordings: RecordingsOption = None,
) -> None:
    """Write a recorded session's voice (Opus in OGG) and its timeline (JSON) into a folder."""
    from readingroom.server.conference import recordings as kept
    from readingroom.server.conference import replay

    recording = replay.load(recordings or kept.default_root(), session)
    with progress_bar("Encoding the voice as Opus") as update:
        written = replay.export(recording, out, update)
    sys.stdout.write("".join(f"{path}\n" for path in written))
    if recording.voice is None:
        sys.stdout.write(f"Session {session} has no voice recorded with it (voice.wav and voice.json): its timeline "
                         "alone was written\n")


def _server(cases: Path, curriculum: Path | None, port: int, ip: str, records: str, journal: Path | None,
            public_url: str, qr: Path | None, trusted_proxy: list[str] | None, what: str | None,
            options: list[str]):
    """The serving app, initialised (crashed sessions closed) but not listening yet; options checked first."""
    if not cases.is_dir():
        raise InputError(f"{cases}: no such folder; give the folder holding your cases with --cases")
    if curriculum is not None and not curriculum.is_dir():
        raise InputError(f"--curriculum {curriculum}: no such folder; give the folder holding the <module>.yaml files")
    if not 0 < port < 65536:
        raise InputError(f"--port {port} is not a port number (1-65535)")
    base = _public_url(public_url, ip, port)
    if qr is not None and (qr.suffix.lower() != ".png" or not qr.parent.is_dir()):
        raise InputError(f"--qr {qr}: give a .png file in an existing folder")
    qr_folder = qr.parent if qr else Path.cwd()
    if not os.access(qr_folder, os.W_OK):
        raise InputError(f"cannot write the QR code in {qr_folder}; give a writable place with --qr")
    proxies = proxy_arguments(trusted_proxy)
    from readingroom.curriculum.loader import MODULE_SUFFIX
    from readingroom.server.conference.sessions import presentable_kind
    from readingroom.server.learning import curriculum_folder

    modules_dir = curriculum_folder(str(curriculum or ""), cases.resolve())
    if what is not None:  # a typo: at once, before the port
        presentable_kind(what, cases.resolve(), {p.stem for p in modules_dir.glob(f"*{MODULE_SUFFIX}")})
    _check_port_free(ip, port)
    from readingroom.server.serve_app import ServeVoila

    server = ServeVoila.instance()
    server.initialize([
        str(cases.resolve()), "--no-browser", f"--port={port}", f"--Voila.ip={ip}", "--Voila.port_retries=0",
        "--ServeVoila.pool_size=0",  # followers and case pages need no kernel; a live notebook starts one on demand
        *([f"--ServeVoila.records_url={records}"] if records else []),
        *([f"--ServeVoila.journal={journal.resolve()}"] if journal else []),
        f"--ServeVoila.curriculum_dir={modules_dir}", f"--ServeVoila.public_url={base}", *proxies, *options,
    ])
    return server, base


def _announce(server, base: str, conference, qr: Path | None) -> None:
    """Print the links and the QR code, then serve until stopped."""
    join_url = f"{base}/join/{conference.code}"
    qr_path = qr or Path(f"conference-{conference.code}.png")
    _print_links(f"{base}/readingroom/conference/{conference.id}/present?token={conference.token}", join_url,
                 conference.code, qr_path)
    server.start()


def _named(what: str, cases: Path | None, curriculum: Path | None) -> tuple[str, Path, Path | None]:
    """``what`` as a name, with the folders it implies: a path (what tab completion gives) names its folder.

    ``cases/<slug>`` (or its case.ipynb) is the case <slug> of that cases folder; ``curriculum/<name>.yaml``
    is the module <name> of that curriculum folder, its cases in the cases/ folder beside it (as
    `readingroom check` reads a module). A folder given with --cases/--curriculum must agree.
    """
    from readingroom.case.check import NOTEBOOK
    from readingroom.curriculum.loader import MODULE_SUFFIX

    path = Path(what)
    if path.name == NOTEBOOK and path.is_file():
        path = path.parent
    if (path / NOTEBOOK).is_file():
        return path.resolve().name, _agreeing("--cases", cases, path.resolve().parent), curriculum
    if path.suffix == MODULE_SUFFIX and path.is_file():
        folder = path.resolve().parent
        return path.stem, cases or folder.parent / "cases", _agreeing("--curriculum", curriculum, folder)
    if len(path.parts) > 1 or path.suffix:
        raise InputError(f"{what}: no such case folder (holding {NOTEBOOK}) or module file (<name>{MODULE_SUFFIX}); "
                         "give one, or a case or module by name")
    return what, cases or Path("cases"), curriculum


def _agreeing(option: str, given: Path | None, implied: Path) -> Path:
    if given is not None and given.resolve() != implied:
        raise InputError(f"{option} {given} disagrees with the path given, which is in {implied}; drop {option}")
    return implied


def _public_url(given: str, ip: str, port: int) -> str:
    if given:
        return public_address(given)
    host = socket.getfqdn() if ip in ("0.0.0.0", "::", "") else ip
    return f"http://{host}:{port}"


def _check_port_free(ip: str, port: int) -> None:
    with socket.socket() as probe:
        try:
            probe.bind((ip, port))
        except OSError as error:
            raise InputError(f"--port {port} on {ip} is not available ({error.strerror}); pick another port") from None


def _print_links(presenter_url: str, join_url: str, code: str, qr_path: Path) -> None:
    import segno

    qr = segno.make(join_url, error="m")
    _write_atomically(qr_path, lambda out: qr.save(out, kind="png", scale=8))
    out = sys.stdout
    out.write(f"Presenter link (secret: whoever opens it drives the conference):\n  {presenter_url}\n")
    out.write(f"Join link: {join_url}\nJoin code: {code}\n")
    qr.terminal(out=out, compact=True)
    out.write(f"QR code of the join link: {qr_path}\n")
    out.flush()


def _write_atomically(path: Path, write) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
