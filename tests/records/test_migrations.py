"""A records store made by the release before migrations (commit 50066d5) is refused until
`readingroom records upgrade`, which keeps every record; on SQLite and on a real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, insert
from typer.testing import CliRunner

from readingroom.cli import app
from readingroom.records import RecordsStore, StoreBehindError, models, schema
from tests.records import schema_50066d5 as old

T0 = datetime(2025, 11, 3, 18, 0, tzinfo=UTC)


@pytest.fixture
def old_store_url(store: RecordsStore) -> str:
    """The ``store`` fixture's empty database, filled as the previous release would have: create_all and rows."""
    engine = create_engine(store.url)
    with engine.begin() as db:
        old.Base.metadata.create_all(db)
        ana = db.execute(insert(old.ParticipantRow).values(display_name="Ana Ruiz", licence_id="NM-1",
                                                            is_educator=False)).inserted_primary_key[0]
        session = db.execute(insert(old.SessionRow).values(kind="case", ref="chest-pe-01", starts_at=T0,
                                                           ends_at=T0.replace(hour=19))).inserted_primary_key[0]
        db.execute(insert(old.AttendanceEventRow), [
            {"session_id": session, "participant_id": ana, "kind": "join", "at": T0.replace(minute=5)},
            {"session_id": session, "participant_id": ana, "kind": "leave", "at": T0.replace(minute=50)}])
        db.execute(insert(old.PollAnswerRow).values(session_id=session, participant_id=ana, poll_id="p1", answer=2,
                                                    answered_at=T0.replace(minute=20)))
    engine.dispose()
    assert (ana, session) == (1, 1)  # the tests below refer to them so
    return store.url


def _upgrade(url: str):
    return CliRunner().invoke(app, ["records", "upgrade", "--records", url])


def test_an_old_store_is_refused_with_the_command_that_upgrades_it(old_store_url):
    with RecordsStore(old_store_url) as records, pytest.raises(StoreBehindError) as refused:
        records.session(1)
    message = str(refused.value)
    assert "older schema" in message and "readingroom records upgrade --records" in message
    assert "\n" not in message


def test_records_upgrade_keeps_every_record_and_the_store_then_works(old_store_url):
    done = _upgrade(old_store_url)
    assert done.exit_code == 0, done.output
    assert f"upgraded from revision {schema.BASELINE} to revision {schema.head()}" in done.output
    with RecordsStore(old_store_url) as records:
        assert records.minutes_present(1, 1) == 45
        assert [(a.participant_id, a.answer) for a in records.poll_answers(1)] == [(1, 2)]
        later = records.create_session("case", "chest-pe-02", T0.replace(day=4))
        records.record_join(later.id, 1, T0.replace(day=4))  # the new columns are there
        assert records.attendance_report(later.id, until=T0.replace(day=4, hour=19))[0].display_name == "Ana Ruiz"
    again = _upgrade(old_store_url)
    assert again.exit_code == 0 and "already at the current schema" in again.output


def test_the_migrated_schema_is_the_models_schema(old_store_url):
    assert _upgrade(old_store_url).exit_code == 0
    engine = create_engine(old_store_url)
    try:
        with engine.connect() as db:
            assert compare_metadata(MigrationContext.configure(db), models.Base.metadata) == []
    finally:
        engine.dispose()


def test_a_new_store_is_made_at_the_newest_revision(store):
    store.add_participant("First One")
    done = _upgrade(store.url)
    assert done.exit_code == 0 and "already at the current schema" in done.output
