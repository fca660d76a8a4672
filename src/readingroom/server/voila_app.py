"""``readingroom-voila``: standalone Voila with our handlers added.

Standalone Voila does not load Jupyter server extensions, so the frame and
module handlers are added here, ahead of Voila's own catch-all notebook route.
Visitors can only send comm messages to the kernel, never code.
"""

from __future__ import annotations

import os

from traitlets import Unicode
from voila.app import Voila

from readingroom.frames import FrameCache, default_cache_dir
from readingroom.server.handlers import routes


class ReadingroomVoila(Voila):
    name = "readingroom-voila"
    description = "Voila serving readingroom notebooks, with frames and widget modules over HTTP."

    frame_cache = Unicode(
        "",
        config=True,
        help="Frame cache folder (default: $READINGROOM_CACHE or ~/.cache/readingroom/frames). "
        "Example: readingroom-voila --ReadingroomVoila.frame_cache=/srv/frames case.ipynb",
    )

    def init_handlers(self) -> list:
        if self.frame_cache:  # kernels inherit the environment: they encode where we serve from
            os.environ["READINGROOM_CACHE"] = self.frame_cache
        cache = FrameCache(self.frame_cache or default_cache_dir())
        self.log.info("readingroom: frames served from %s", cache.root)
        return routes(self.server_url or self.base_url, cache) + super().init_handlers()


main = ReadingroomVoila.launch_instance

if __name__ == "__main__":
    main()
