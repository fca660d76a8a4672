"""Running a case notebook headless in its folder, as Voila will: one way, for `check` and for serving.

Kernel traffic is encrypted (CurveZMQ) where the kernel says it can be: ipykernel 7.4 does,
and otherwise warns on every start that it runs over TCP in plain text, a line every
educator running `readingroom check` would see.
"""

from __future__ import annotations

from pathlib import Path

from traitlets.config import Config

KERNEL_CONFIG = {"KernelManager": {"transport_encryption": "auto"}}


class NotebookRunError(Exception):
    """The notebook could not be run to its end; the message says how, in one line."""


def cell_failure(ename: str, evalue: str) -> str:
    """The one line a failing cell is reported as, to educators and in the server's log."""
    return f"the notebook fails when run: {ename}: {evalue}"


def run_notebook(notebook, folder: Path, timeout: int, *, allow_errors: bool = False):
    """Execute ``notebook`` (nbformat) in place in ``folder``; with ``allow_errors`` a failing cell
    keeps its error output and the rest still run (the caller judges them)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                            resources={"metadata": {"path": str(folder)}}, config=Config(KERNEL_CONFIG))
    try:
        client.execute()
    except CellExecutionError as error:
        raise NotebookRunError(cell_failure(error.ename, error.evalue)) from None
    except DeadKernelError:
        raise NotebookRunError("the notebook's kernel died while running it") from None
    except TimeoutError:
        raise NotebookRunError(f"a cell ran longer than {timeout} s") from None
    return notebook
