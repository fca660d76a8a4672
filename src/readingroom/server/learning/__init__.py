"""Sign-in, curriculum modules, certificates and their verification; every route is built in :func:`learning_routes`.

- ``/signin`` (GET form, POST username + password), ``/signout`` (POST)
- ``/modules``: the modules, with the signed-in trainee's progress
- ``/modules/<name>``: one module, steps in order: disclosures, pre-test, cases, post-test, evaluation, certificate
- ``/modules/<name>/{disclosures,tests/pre,tests/post,evaluation,heartbeat}``: POSTs recording each step
- ``/modules/<name>/cases/<id>``: records the case as opened, then goes to the case page ``/cases/<id>/``
- ``/modules/<name>/certificate.pdf``: the signed-in owner's certificate
- ``/verify/<code>``: public confirmation of a certificate
"""

from __future__ import annotations

from pathlib import Path

from readingroom.curriculum import Module
from readingroom.records import RecordsStore
from readingroom.server.learning.base import environment
from readingroom.server.learning.certificates import CertificateHandler, VerifyHandler
from readingroom.server.learning.modules import (
    CaseOpenHandler,
    DisclosuresHandler,
    EvaluationHandler,
    HeartbeatHandler,
    ModuleListHandler,
    ModulePageHandler,
    TestHandler,
)
from readingroom.server.base import CASE_ID
from readingroom.server.learning.signin import SignInHandler, SignInLimits, SignOutHandler
from readingroom.server.handlers import route_base

MODULE = r"([a-z0-9][a-z0-9-]{0,99})"


def curriculum_folder(configured: str, cases: Path) -> Path:
    """The modules' folder: the one configured, else ``curriculum/`` beside the cases folder."""
    return Path(configured) if configured else cases.parent / "curriculum"


def learning_routes(base_url: str, store: RecordsStore, modules: list[Module], limiter=None) -> list[tuple]:
    """The tornado rules for signing in, modules, certificates and verification, under ``base_url``."""
    base = route_base(base_url)
    common = {"store": store, "environment": environment()}
    learning = {**common, "modules": {m.name: m for m in modules}}
    return [
        (rf"{base}signin", SignInHandler, {**common, "limits": SignInLimits(limiter)}),
        (rf"{base}signout", SignOutHandler, common),
        (rf"{base}modules", ModuleListHandler, learning),
        (rf"{base}modules/{MODULE}", ModulePageHandler, learning),
        (rf"{base}modules/{MODULE}/disclosures", DisclosuresHandler, learning),
        (rf"{base}modules/{MODULE}/tests/(pre|post)", TestHandler, learning),
        (rf"{base}modules/{MODULE}/cases/({CASE_ID})", CaseOpenHandler, learning),
        (rf"{base}modules/{MODULE}/heartbeat", HeartbeatHandler, learning),
        (rf"{base}modules/{MODULE}/evaluation", EvaluationHandler, learning),
        (rf"{base}modules/{MODULE}/certificate\.pdf", CertificateHandler, learning),
        (rf"{base}verify/([^/]{{1,64}})", VerifyHandler, common),
    ]
