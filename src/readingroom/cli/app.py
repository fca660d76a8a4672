"""The Typer application and the one place where errors become exit statuses."""

from __future__ import annotations

import sys

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from readingroom.errors import ReadingroomError

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
# Tables stay readable when piped (Rich would otherwise assume 80 columns).
out_console = Console(highlight=False, width=None if sys.stdout.isatty() else 160)

INTERNAL_ERROR_EXIT = 1


def report_error(message: str) -> None:
    """Print one diagnostic line to stderr; DICOM text may contain Rich markup."""
    err_console.print(f"[bold red]error:[/] {escape(message)}")


class _ErrorReportingGroup(TyperGroup):
    """Turns errors into one line and an exit status; ``--debug`` shows tracebacks."""

    def invoke(self, ctx: typer.Context):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):  # usage errors and exits keep their meaning
            raise
        except ReadingroomError as error:
            if _debug(ctx):
                raise
            report_error(str(error))
            raise typer.Exit(error.exit_code) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as error:  # a bug: say so briefly, keep the traceback for --debug
            if _debug(ctx):
                raise
            report_error(f"internal error: {type(error).__name__}: {error} (rerun with --debug and report it)")
            raise typer.Exit(INTERNAL_ERROR_EXIT) from None


def _debug(ctx: typer.Context) -> bool:
    return bool(isinstance(ctx.obj, dict) and ctx.obj.get("debug"))


app = typer.Typer(
    cls=_ErrorReportingGroup,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    help="Radiology teaching files and live case conferences.",
)


@app.callback()
def _global_options(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors."),
) -> None:
    ctx.obj = {"debug": debug}


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())
