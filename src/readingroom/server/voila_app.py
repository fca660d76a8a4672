"""``readingroom-voila``: standalone Voila with our handlers added.

Standalone Voila does not load Jupyter server extensions, so the frame and
module handlers are added here, ahead of Voila's own catch-all notebook route.
Visitors can only send comm messages to the kernel, never code.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from tornado.web import GZipContentEncoding
from traitlets import Unicode
from voila.app import Voila

from readingroom.frames import FrameCache, default_cache_dir
from readingroom.server.handlers import routes
from readingroom.widgets.assets import announce_handlers

# Front-end extensions for JupyterLab's own UI that Voila 0.5 would still load into its pages. Notebook 7's
# (the "Open in..." switcher, a file-browser launcher) needs @jupyterlab/docregistry ^4.6 from the page and
# bundles none; Voila's page shares JupyterLab 4.2, so loading it fails with a console error ("The getter
# for the shared module is not a function"), after fetching ~130 kB for nothing. Plain `voila` gets the
# same list from jupyter-config/voila.json, installed into the environment's etc/jupyter.
JUPYTERLAB_UI_EXTENSIONS = ["@jupyter-notebook/lab-extension"]


class ReadingroomVoila(Voila):
    name = "readingroom-voila"
    description = "Voila serving readingroom notebooks, with frames and widget modules over HTTP."

    frame_cache = Unicode(
        "",
        config=True,
        help="Frame cache folder (default: $READINGROOM_CACHE or ~/.cache/readingroom/frames). "
        "Example: readingroom-voila --ReadingroomVoila.frame_cache=/srv/frames case.ipynb",
    )

    def initialize(self, argv=None):
        super().initialize(argv)
        conf = self.voila_configuration
        conf.extension_denylist = [*(conf.extension_denylist or []), *JUPYTERLAB_UI_EXTENSIONS]

    def setup_template_dirs(self) -> None:
        """Voila's templates, minus the stylesheets they fetch from a CDN (the page must work offline)."""
        super().setup_template_dirs()
        for folder in self.template_paths:
            index = Path(folder) / "index.html.j2"
            if index.is_file():
                text = index.read_text(encoding="utf-8")
                local = re.sub(r'^\s*<link[^>]+href="https?://[^"]+"[^>]*>\s*$\n?', "", text, flags=re.M)
                if local != text:
                    override = Path(tempfile.mkdtemp(prefix="readingroom-voila-templates-"))
                    (override / "index.html.j2").write_text(local, encoding="utf-8")
                    self.template_paths.insert(0, str(override))
                break

    def init_handlers(self) -> list:
        if self.frame_cache:  # kernels inherit the environment: they encode where we serve from
            os.environ["READINGROOM_CACHE"] = self.frame_cache
        announce_handlers()  # and widgets load their modules from our handlers
        cache = FrameCache(self.frame_cache or default_cache_dir())
        self.log.info("readingroom: frames served from %s", cache.root)
        # Voila's page is ~5 MB of JavaScript: gzip cuts what a rural link must carry before
        # anything shows. Tornado compresses text types only, so frames (already deflated) and
        # JPEG previews go out as they are. Voila builds its Application before reading
        # tornado_settings, so the transform is added here, where the app exists.
        if self.app is not None and GZipContentEncoding not in self.app.transforms:
            self.app.transforms.append(GZipContentEncoding)
        return routes(self.server_url or self.base_url, cache) + super().init_handlers()


main = ReadingroomVoila.launch_instance

if __name__ == "__main__":
    main()
