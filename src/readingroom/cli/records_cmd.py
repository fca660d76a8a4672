"""`readingroom records`: what a CME coordinator needs from the records store, and local accounts."""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from readingroom.cli.app import app, out_console
from readingroom.errors import InputError

records_app = typer.Typer(no_args_is_help=True, help="CME records: credit export, attendance, local accounts, schema upgrade.")
app.add_typer(records_app, name="records")

RecordsOption = Annotated[
    str,
    typer.Option(
        "--records",
        help="Records store URL; default $READINGROOM_RECORDS or ~/.local/share/readingroom/records.sqlite.",
    ),
]
EXPORT_COLUMNS = (
    "name",
    "licence_id",
    "activity",
    "completion_date",
    "credit_type",
    "credits",
    "format",
    "certificate_code",
)
MIN_PASSWORD = 8
_USERNAME = re.compile(r"^[A-Za-z0-9._@-]{1,64}$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # spreadsheets would run these as formulas


class ExportFormat(str, Enum):
    csv = "csv"


@contextmanager
def open_store(url: str) -> Iterator:
    """The store at ``url`` (default: the usual one); unusable URLs and databases become one-line errors."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from readingroom.records import RecordsStore, default_url

    url = url or default_url()
    try:
        shown = make_url(url).render_as_string(hide_password=True)
        store = RecordsStore(url)
    except (ArgumentError, NoSuchModuleError, ValueError) as error:
        raise InputError(
            f"--records {url!r} is not a database URL ({error}); use e.g. sqlite:///records.sqlite"
        ) from None
    try:
        yield store
    except OperationalError as error:
        cause = str(error.orig or error).strip().splitlines()[0]
        raise InputError(f"cannot open the records store {shown}: {cause}; check --records") from None
    finally:
        store.close()


@records_app.command("export")
def export(
    format: Annotated[ExportFormat, typer.Option("--format", help="Output format.")] = ExportFormat.csv,  # noqa: A002
    out: Annotated[Path | None, typer.Option("--out", help="File to write; default: standard output.")] = None,
    since: Annotated[
        datetime | None, typer.Option("--since", formats=["%Y-%m-%d"], help="Completed on or after (UTC date).")
    ] = None,
    until: Annotated[
        datetime | None, typer.Option("--until", formats=["%Y-%m-%d"], help="Completed before (UTC date).")
    ] = None,
    records: RecordsOption = "",
) -> None:
    """Every credit certificate with the fields licensing boards ask for, one row each."""
    if out is not None and not out.parent.is_dir():
        raise InputError(f"--out {out}: the folder {out.parent} does not exist; create it or choose another path")
    with open_store(records) as store:
        rows = store.credit_export(
            since=since.replace(tzinfo=UTC) if since else None, until=until.replace(tzinfo=UTC) if until else None
        )
    text = credit_csv(rows)
    if out is None:
        sys.stdout.write(text)
        return
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(text, encoding="utf-8", newline="")
    os.replace(partial, out)  # never a half-written export where the coordinator expects a whole one
    out_console.print(f"wrote {len(rows)} credit record(s) to {escape(str(out))}")


def credit_csv(rows) -> str:
    from readingroom.curriculum import credits_text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(EXPORT_COLUMNS)
    for r in rows:
        writer.writerow(
            [
                _cell(r.display_name),
                _cell(r.licence_id or ""),
                _cell(r.activity),
                r.completed_at.date().isoformat(),
                _cell(r.credit_type or ""),
                credits_text(r.quarter_hours / 4),
                r.format or "",
                r.code,
            ]
        )
    return buffer.getvalue()


def _cell(text: str) -> str:
    return f"'{text}" if text.startswith(_FORMULA_START) else text


@records_app.command("upgrade")
def upgrade(records: RecordsOption = "") -> None:
    """Migrate the records store to this version's schema (back it up first); a current store is left as is."""
    with open_store(records) as store:
        before, after = store.upgrade_schema()
    if before == after:
        out_console.print(f"the records store is already at the current schema (revision {after})")
    else:
        made = "made" if before is None else f"upgraded from revision {before}"
        out_console.print(f"records store {made} to revision {after}")


@records_app.command("attendance")
def attendance(
    session: Annotated[int, typer.Argument(help="The conference session id.")],
    records: RecordsOption = "",
) -> None:
    """Who attended a conference session: first join, minutes present, reconnects."""
    from readingroom.records import NotFoundError

    with open_store(records) as store:
        try:
            conference = store.session(session)
        except NotFoundError:
            raise InputError(
                f"no conference session {session} in the records store; check the id (and --records)"
            ) from None
        ongoing = conference.ends_at is None
        report = store.attendance_report(session, until=datetime.now(UTC) if ongoing else None)
    started = f"{conference.starts_at:%Y-%m-%d %H:%M} UTC"
    title = f"Session {session}: {escape(conference.kind)} {escape(conference.ref)}, {started}"
    table = Table(title=title + (" (still running)" if ongoing else ""), title_justify="left")
    for heading, justify in (
        ("name", "left"),
        ("licence", "left"),
        ("first join (UTC)", "left"),
        ("minutes present", "right"),
        ("reconnects", "right"),
    ):
        table.add_column(heading, justify=justify)
    for row in report:
        table.add_row(
            escape(row.display_name),
            escape(row.licence_id or "-"),
            f"{row.first_join:%Y-%m-%d %H:%M}",
            f"{row.minutes_present:.0f}",
            str(row.reconnects),
        )
    out_console.print(table)
    out_console.print(f"{len(report)} participant(s)")


@records_app.command("add-user")
def add_user(
    username: Annotated[str, typer.Argument(help="Sign-in name: letters, digits and . _ @ -")],
    name: Annotated[str, typer.Option("--name", help='Name as printed on certificates, e.g. "Dr Ana Ruiz".')],
    licence: Annotated[
        str | None, typer.Option("--licence", help="Licence or board ID, for the credit export.")
    ] = None,
    educator: Annotated[bool, typer.Option("--educator", help="May start conferences and see every record.")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from standard input (scripts).")
    ] = False,
    records: RecordsOption = "",
) -> None:
    """Create a local account; the password is asked twice without echo and stored only as a hash."""
    if not _USERNAME.match(username):
        raise InputError(f"username {username!r}: use 1-64 letters, digits and . _ @ - only")
    if not name.strip():
        raise InputError("--name must not be empty; give the name to print on certificates")
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD:
        raise InputError(f"the password must have at least {MIN_PASSWORD} characters")
    with open_store(records) as store:
        person = store.add_participant(  # a taken username is a RecordsError: one line from the CLI
            name.strip(), licence_id=licence, username=username, password=password, is_educator=educator
        )
    role = "educator" if person.is_educator else "participant"
    out_console.print(f"added {role} {escape(username)} ({escape(person.display_name)}), id {person.id}")
