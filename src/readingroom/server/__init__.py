"""The serving side: our tornado handlers (frames by digest, widget modules), a
standalone Voila subclass that adds them, and a Jupyter server extension that
adds them to JupyterLab / Notebook 7.
"""

from readingroom.server.handlers import FRAMES_PATH, STATIC_PATH, routes


def _jupyter_server_extension_points():
    return [{"module": "readingroom.server"}]


def _load_jupyter_server_extension(serverapp):
    """Add our handlers to a running Jupyter server (JupyterLab, Notebook 7)."""
    from readingroom.frames import FrameCache
    from readingroom.widgets.assets import announce_handlers

    web_app = serverapp.web_app
    web_app.add_handlers(".*$", routes(web_app.settings.get("base_url", "/"), FrameCache()))
    announce_handlers()
    serverapp.log.info("readingroom: frames served from %s", FrameCache().root)


# Older jupyter_server / notebook names for the same hook.
load_jupyter_server_extension = _load_jupyter_server_extension

__all__ = ["FRAMES_PATH", "STATIC_PATH", "routes"]
