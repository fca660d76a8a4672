"""Run a case's unknown view once, with nbclient, in a process of its own.

Its own process because nbclient takes over SIGTERM and SIGINT in whatever event loop
runs it and then resets them, so inside the serving app a stop request would kill the
case's kernel instead of stopping the server, and later be ignored. A child process also
keeps a runaway notebook (a cell that never ends, memory it never gives back) away from
the server, which kills it when it stops.

Protocol: ``python -m readingroom.server.case_run`` reads ``{"view", "folder", "timeout"}``
as JSON on stdin and writes ``{"notebook", "keys", "widgets"}`` or ``{"error"}`` as JSON on stdout.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

EXPORT_CELL = "from readingroom.widgets.page_export import page_export_json as _rr_export\nprint(_rr_export())"


class CaseRunError(Exception):
    """The case notebook failed when run; the message says how, in one line."""


def run_case(view: dict, folder: Path, timeout: int) -> dict:
    """Execute ``view`` in ``folder`` as Voila would: the notebook with outputs and widget state, plus
    what :mod:`readingroom.widgets.page_export` reads out of the same kernel (answer keys, widget extras)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, DeadKernelError

    notebook = nbformat.reads(json.dumps(view), as_version=4)
    notebook.cells.append(nbformat.v4.new_code_cell(EXPORT_CELL))
    client = NotebookClient(notebook, timeout=timeout, kernel_name="python3", store_widget_state=True,
                            resources={"metadata": {"path": str(folder)}})
    try:
        client.execute()
    except CellExecutionError as error:
        raise CaseRunError(f"the notebook fails when run: {error.ename}: {error.evalue}") from None
    except DeadKernelError:
        raise CaseRunError("the notebook's kernel died while running it") from None
    except TimeoutError:
        raise CaseRunError(f"a cell ran longer than {timeout} s") from None
    export_cell = notebook.cells.pop()
    text = "".join(o.get("text", "") for o in export_cell.outputs if o.get("output_type") == "stream")
    return {"notebook": notebook, **json.loads(text)}


class CaseRunner:
    """Starts case runs as child processes and stops whichever are still going when the server stops."""

    def __init__(self) -> None:
        self._running: set[asyncio.subprocess.Process] = set()

    async def run(self, view: dict, folder: Path, timeout: int) -> dict:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", __name__, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        self._running.add(process)
        try:
            out, err = await process.communicate(json.dumps({"view": view, "folder": str(folder),
                                                             "timeout": timeout}).encode())
        finally:
            self._running.discard(process)
        try:
            reply = json.loads(out)
        except ValueError:
            last = (err.decode(errors="replace").strip().splitlines() or ["no output"])[-1]
            raise CaseRunError(f"running the notebook stopped (exit status {process.returncode}): {last}") from None
        if "error" in reply:
            raise CaseRunError(reply["error"])
        return reply

    def stop(self) -> None:
        for process in list(self._running):
            if process.returncode is None:
                process.terminate()  # nbclient, in the child, shuts the kernel down on SIGTERM


def _main() -> None:
    asked = json.load(sys.stdin)
    try:
        reply = run_case(asked["view"], Path(asked["folder"]), int(asked["timeout"]))
    except CaseRunError as error:
        reply = {"error": str(error)}
    json.dump(reply, sys.stdout)


if __name__ == "__main__":
    _main()
