"""A case's images must open and must still pass the de-identification checks."""

from __future__ import annotations

from pathlib import Path

from readingroom.dicom import decode_frame, open_path
from readingroom.errors import InputError


def verify_images(images: Path) -> list[str]:
    from readingroom.deid.verify import header_problems, pixel_problems

    try:
        collection = open_path(images)
    except InputError as error:
        return [f"images/: {error}"]
    problems = [f"images/{p.message}" for p in collection.problems]
    for series in collection.series:
        by_file: dict[str, list] = {}
        for frame in series.frames:
            by_file.setdefault(frame.instance.label, []).append(frame)
        for label, frames in by_file.items():
            header = frames[0].instance.header  # open_path already read it, without pixels
            found = header_problems(header)
            found += pixel_problems(header, len(frames), lambda i, frames=frames: decode_frame(frames[i]))
            problems += [f"images/{label}: {message}" for message in found]
    return problems

