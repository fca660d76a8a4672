"""Run a case notebook once, stage by stage, with nbclient, in a process of its own.

Its own process because nbclient takes over SIGTERM and SIGINT in whatever event loop
runs it and then resets them, so inside the serving app a stop request would kill the
case's kernel instead of stopping the server, and later be ignored. A child process also
keeps a runaway notebook (a cell that never ends, memory it never gives back) away from
the server, which kills it when it stops.

After each reveal stage's cells the kernel's widgets are read out
(:mod:`readingroom.widgets.page_export`), so the unknown view's page holds each widget as
it was before any later cell ran. A later stage that fails does not stop the case being
shown: the stages before it are run, the rest are shown as the author saved them.

Protocol: ``python -m readingroom.server.case_run`` reads ``{"view", "folder", "timeout"}``
as JSON on stdin and writes ``{"notebook", "stages": [export per stage run], "failed"}`` or
``{"error"}`` as JSON on stdout; ``failed`` says which later stage failed and how, or is null.
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
    """Execute ``view`` in ``folder`` as Voila would, reading the widgets out after each stage."""
    import nbformat

    from readingroom.case.execute import NotebookRunError, cell_failure, run_notebook
    from readingroom.case.roles import stages

    notebook = nbformat.reads(json.dumps(view), as_version=4)
    run_cells, exports, stage_of = [], [], []
    for stage in stages(notebook):
        for index in stage.cell_indices:
            run_cells.append(notebook.cells[index])
            stage_of.append(stage.number)
        exports.append(len(run_cells))
        run_cells.append(nbformat.v4.new_code_cell(EXPORT_CELL))
        stage_of.append(stage.number)
    notebook.cells = run_cells
    try:  # errors allowed: a later stage failing still leaves the earlier ones shown; they are judged below
        run_notebook(notebook, folder, timeout, allow_errors=True)
    except NotebookRunError as error:
        raise CaseRunError(str(error)) from None
    failed_stage, failed_output = next(
        ((stage_of[i], output) for i, cell in enumerate(run_cells) for output in cell.get("outputs", [])
         if output.get("output_type") == "error"), (None, {}))
    if failed_stage == 0:
        raise CaseRunError(cell_failure(failed_output["ename"], failed_output["evalue"]))
    ran_stages = len(exports) if failed_stage is None else failed_stage
    read = [json.loads(_printed(run_cells[exports[k]])) for k in range(ran_stages)]
    notebook.cells = [cell for i, cell in enumerate(run_cells) if i not in exports]
    failed = f"stage {failed_stage}: {failed_output['ename']}: {failed_output['evalue']}" if failed_output else None
    return {"notebook": notebook, "stages": read, "failed": failed}


def _printed(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")


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
