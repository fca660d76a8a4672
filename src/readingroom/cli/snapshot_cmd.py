"""`readingroom snapshot`: one frame to PNG through the viewer's own pipeline."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from PIL import Image

from readingroom.cli.app import err_console, out_console
from readingroom.cli.app import app
from readingroom.cli.opening import open_source, pick_series
from readingroom.dicom import Window, find_preset, render_frame
from readingroom.errors import InputError


@app.command()
def snapshot(
    path: Annotated[Path, typer.Argument(help="A DICOM file, folder, zip or DICOMDIR.")],
    output: Annotated[Path, typer.Option("-o", "--output", help="PNG file to write.")],
    series: Annotated[int, typer.Option("--series", help="Series number as listed by `readingroom inspect`.")] = 1,
    frame: Annotated[int | None, typer.Option("--frame", help="Frame number, from 1; default: the middle frame.")] = None,
    window: Annotated[str | None, typer.Option("--window", help="CENTER,WIDTH in modality units, e.g. 40,400.")] = None,
    preset: Annotated[str | None, typer.Option("--preset", help="A named window, e.g. lung, brain, bone.")] = None,
) -> None:
    """Render one frame to PNG (header window by default, else an automatic one)."""
    if window and preset:
        raise InputError("give either --window or --preset, not both")
    if output.suffix.lower() != ".png":
        raise InputError(f"{output}: the output must be a .png file")
    chosen = _parse_window(window) if window else None
    stack = pick_series(open_source(path), series)
    if preset:
        found = find_preset(preset, stack.modality)
        chosen = Window(found.center, found.width, name=found.name)
    number = frame if frame is not None else (stack.frame_count + 1) // 2
    if not 1 <= number <= stack.frame_count:
        raise InputError(f"--frame {number} does not exist; series {series} has frames 1 to {stack.frame_count}")
    if chosen and stack.is_color:
        err_console.print("note: colour images have no window; --window/--preset ignored")
    pixels = render_frame(stack.frames[number - 1], None if stack.is_color else chosen)
    _write_png_atomically(pixels, output)
    out_console.print(f"wrote {output} (series {series}, frame {number} of {stack.frame_count})", markup=False)


def _parse_window(text: str) -> Window:
    try:
        center, width = (float(part) for part in text.split(","))
    except ValueError:
        raise InputError(f"--window {text!r} must be CENTER,WIDTH, e.g. --window 40,400") from None
    return Window(center, width)


def _write_png_atomically(pixels, output: Path) -> None:
    """Write next to the target, then rename: an interrupted run leaves no partial PNG."""
    directory = output.parent if str(output.parent) else Path(".")
    if not directory.is_dir():
        raise InputError(f"{output}: folder {directory} does not exist")
    handle, temporary = tempfile.mkstemp(suffix=".png.part", dir=directory)
    try:
        with os.fdopen(handle, "wb") as fp:
            Image.fromarray(pixels).save(fp, format="PNG")
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
