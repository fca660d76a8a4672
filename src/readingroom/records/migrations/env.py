"""Alembic's environment for the records store: always run from :mod:`readingroom.records.schema`,
which hands over an open connection (``config.attributes["connection"]``); never from an alembic.ini."""

from alembic import context

from readingroom.records.models import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata,
                  render_as_batch=connection.dialect.name == "sqlite")  # SQLite alters tables by copying them
with context.begin_transaction():
    context.run_migrations()
