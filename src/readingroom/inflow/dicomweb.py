"""DICOMweb: QIDO-RS to list a study's instances, WADO-RS to stream them into an intake.

Credentials come from a token file, the environment or ~/.netrc (requests reads it), never
from the URL, so they stay out of shell history. dicomweb-client logs request URLs and
headers at debug level, so its logger is held at warnings.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from readingroom.errors import InputError, RemoteError
from readingroom.inflow.intake import Intake
from readingroom.inflow.locations import DicomWebStudy

TOKEN_ENV = "READINGROOM_DICOMWEB_TOKEN"
USER_ENV, PASSWORD_ENV = "READINGROOM_DICOMWEB_USER", "READINGROOM_DICOMWEB_PASSWORD"
TIMEOUT_S = 60
_CREDENTIAL_HELP = f"--token-file, {TOKEN_ENV}, {USER_ENV}/{PASSWORD_ENV} or ~/.netrc"

Progress = Callable[[int, int], None]


def dicomweb_session(token_file: Path | None = None):
    """A requests session carrying the first credential found: token file, token env, user/password env, netrc."""
    import requests

    session = requests.Session()
    token = _read_token(token_file) if token_file else os.environ.get(TOKEN_ENV, "").strip()
    if token:
        session.headers["Authorization"] = f"Bearer {token}"
    elif os.environ.get(USER_ENV):
        session.auth = (os.environ[USER_ENV], os.environ.get(PASSWORD_ENV, ""))
    return session  # with no credential set, requests falls back to ~/.netrc (or $NETRC)


def _read_token(path: Path) -> str:
    try:
        token = path.read_text().strip()
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{path}: cannot read the token file ({getattr(error, 'strerror', None) or 'not text'})") from None
    if not token:
        raise InputError(f"{path}: the token file is empty; put the bearer token on its first line")
    return token


def fetch_dicomweb(study: DicomWebStudy, intake: Intake, *, session=None, progress: Progress | None = None) -> None:
    """List the study's instances, then stream them series by series into ``intake``."""
    from dicomweb_client import DICOMwebClient

    logging.getLogger("dicomweb_client").setLevel(logging.WARNING)
    client = DICOMwebClient(study.root, session=session or dicomweb_session(), timeout=TIMEOUT_S)
    with _errors(study):
        listed = client.search_for_instances(study_instance_uid=study.study, series_instance_uid=study.series,
                                             fields=["SeriesInstanceUID"], get_remaining=True)
    if not listed:
        raise InputError(f"{study.where} has no such {'series' if study.series else 'study'}; check the UID in the URL")
    series = sorted({str(item.get("0020000E", {}).get("Value", [""])[0]) for item in listed})
    stream = (ds for series_uid in series for ds in client.iter_series(study.study, series_uid))
    with _errors(study):
        intake.accept_all(stream, progress=progress and (lambda done: progress(done, max(len(listed), done))))


@contextmanager
def _errors(study: DicomWebStudy) -> Iterator[None]:
    """HTTP and connection failures as one line naming the host, never the URL (its UIDs identify)."""
    import requests

    where = study.where
    try:
        yield
    except requests.RequestException as error:
        status = getattr(error.response, "status_code", None)
        if status in (401, 403):
            raise RemoteError(f"{where} refused the credentials (HTTP {status}); set them with {_CREDENTIAL_HELP}") from None
        if status == 404:
            raise InputError(f"{where} has no such study or series (HTTP 404); check the URL") from None
        if status is not None:
            raise RemoteError(f"{where} answered HTTP {status}; check the DICOMweb URL and the server's log") from None
        if isinstance(error, requests.Timeout):
            raise RemoteError(f"{where} did not answer within {TIMEOUT_S} s; try again or check the server") from None
        raise RemoteError(f"cannot reach {where}; check the host, the port and that the DICOMweb server is running") from None
