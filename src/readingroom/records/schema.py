"""The records store's schema version: Alembic revisions in ``migrations/``, checked before any use.

Records are kept six years while readingroom changes, so the schema changes only through
migrations. A new, empty store is made at the newest revision; a store at an older one is
refused with the command that upgrades it (``readingroom records upgrade``), never altered
behind the coordinator's back. A store made before migrations existed (by ``create_all``,
no ``alembic_version`` table) is at the baseline revision.
"""

from __future__ import annotations

import threading
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.engine import make_url

from .errors import StoreBehindError
from .models import Base

MIGRATIONS = Path(__file__).with_name("migrations")
BASELINE = "0001"  # the schema of the release before migrations (commit 50066d5)
# Alembic's commands run through one module-level proxy (``alembic.context``), which two
# threads using it at once corrupt (KeyError in EnvironmentContext): one command at a time.
_ALEMBIC = threading.Lock()


def _config(connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def head() -> str:
    """The revision this version of readingroom needs."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def revision(connection: Connection) -> str | None:
    """The store's revision: None for an empty store, BASELINE for one made before migrations."""
    current = MigrationContext.configure(connection).get_current_revision()
    if current is None and inspect(connection).has_table("participant"):
        return BASELINE
    return current


def ensure_current(engine: Engine) -> None:
    """Make an empty store at the newest revision; refuse (one line, with the fix) one at another."""
    with _ALEMBIC, engine.begin() as connection:
        found = revision(connection)
        if found is None:
            Base.metadata.create_all(connection)
            command.stamp(_config(connection), "head")
            return
    wanted = head()
    if found != wanted:
        shown = make_url(engine.url).render_as_string(hide_password=True)
        if found in _known():
            raise StoreBehindError(
                f"the records store {shown} has an older schema (revision {found}, this version needs {wanted}); "
                f"back it up, then run: readingroom records upgrade --records {shown}")
        raise StoreBehindError(f"the records store {shown} is at revision {found}, unknown to this version of "
                               f"readingroom (it needs {wanted}): it was made by a newer one; use that")


def upgrade(engine: Engine) -> tuple[str | None, str]:
    """Bring the store to the newest revision in one transaction; (revision before, revision after)."""
    with _ALEMBIC, engine.begin() as connection:
        before = revision(connection)
        config = _config(connection)
        if before == BASELINE and MigrationContext.configure(connection).get_current_revision() is None:
            command.stamp(config, BASELINE)  # made by create_all before migrations: it *is* the baseline
        command.upgrade(config, "head")
    return before, head()


def _known() -> set[str]:
    return {script.revision for script in ScriptDirectory(str(MIGRATIONS)).walk_revisions()}
