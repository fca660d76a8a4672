"""The ``readingroom`` command: one module per command group, composed here."""

from readingroom.cli.app import app, main
from readingroom.cli import build_cmd, case_cmd, conference_cmd, deid_cmd, inspect_cmd, receive_cmd, records_cmd, serve_cmd, snapshot_cmd  # noqa: F401  (registers commands)

__all__ = ["app", "main"]
