"""Where the front-end ES modules are, and the version that names their URL.

In a wheel they are packaged as ``readingroom/widgets/static``; in a source
checkout they are the top-level ``widgets/`` folder. Every ``.js`` file there is
served, plus ``view_state.js``, generated from the Python declaration of the
viewer's state. The version is a digest of their content, so the URL changes
whenever the code does and can be cached forever.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

PAGE_MODULES = ("conference.js", "presenter.js", "follower.js", "replay.js", "case_page.js", "answer_check.js", "voice.js",
                "presenter_voice.js", "follower_voice.js")  # pages' own code, never a widget's
GENERATED = "view_state.js"  # from readingroom.widgets.view_state
LOADER = "loader.js"  # sent in widget state; imports the modules from their versioned URL
# Set by a server that has our handlers (our Voila app, the server extension); its kernels inherit it.
# Without it (plain `voila notebook.ipynb`) widgets ask the kernel for their modules straight away,
# rather than after a request the server refuses (a 403 in the page's console).
HANDLERS_ENV = "READINGROOM_HANDLERS"


def announce_handlers() -> None:
    """Tell the kernels this server starts that our handlers serve the modules (call where they are added)."""
    os.environ[HANDLERS_ENV] = "1"


def widgets_dir() -> Path:
    packaged = Path(__file__).parent / "static"
    if (packaged / "viewer.js").is_file():
        return packaged
    checkout = Path(__file__).resolve().parents[3] / "widgets"
    if (checkout / "viewer.js").is_file():
        return checkout
    raise FileNotFoundError("readingroom's widget modules are missing: reinstall readingroom")


@lru_cache(maxsize=1)
def _sources(folder: str) -> dict[str, str]:
    from readingroom.widgets.view_state import view_state_module

    found = {path.name: path.read_text(encoding="utf-8") for path in sorted(Path(folder).glob("*.js")) if path.name != LOADER}
    return {**found, GENERATED: view_state_module()}


def served_sources() -> dict[str, str]:
    """Every module the server hands out: the widgets' and the conference pages'."""
    return _sources(str(widgets_dir()))


def module_names() -> tuple[str, ...]:
    """Names of every served module (what the versioned module route answers for)."""
    return tuple(served_sources())


def module_sources() -> dict[str, str]:
    """The widgets' modules only: what a widget sends over the comm when no handler serves them."""
    return {name: text for name, text in served_sources().items() if name not in PAGE_MODULES}


def modules_version() -> str:
    h = hashlib.blake2b(digest_size=6)
    for name, text in sorted(served_sources().items()):
        h.update(name.encode() + b"\0" + text.encode())
    return h.hexdigest()


def loader_source(module: str) -> str:
    """The small ES module a widget carries as ``_esm``; it imports ``module`` (one of the served modules)."""
    if module not in served_sources():
        raise ValueError(f"{module} is not one of the served modules {module_names()}")
    text = (widgets_dir() / LOADER).read_text(encoding="utf-8")
    served = "true" if os.environ.get(HANDLERS_ENV) else "false"
    return text.replace("__RR_VERSION__", modules_version()).replace("__RR_MODULE__", module).replace(
        "__RR_SERVED__", served)
