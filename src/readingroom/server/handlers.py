"""Our HTTP resources, one small handler each; every route is built in :func:`routes`.

Only two things are served: blobs present in the frame cache, looked up by
digest, one at a time or a few in a bundle (nothing else under the cache root, and nothing else on disk), and the
widget ES modules at a URL that carries their content version. Both are
immutable, so browsers and proxies keep them for a year.
"""

from __future__ import annotations


from tornado import web

from readingroom.frames.cache import BLOB_KINDS, DIGEST_PATTERN, FrameCache
from readingroom.widgets.assets import module_names, modules_version, served_sources

FRAMES_PATH = "readingroom/frames"
STATIC_PATH = "readingroom/static"
IMMUTABLE = "public, max-age=31536000, immutable"
MAX_BUNDLE = 16  # blobs per bundle request


class FrameHandler(web.RequestHandler):
    """GET ``<base>/readingroom/frames/<digest>.<bin|jpg>``: a cached blob, or 404."""

    def initialize(self, cache: FrameCache) -> None:
        self.cache = cache

    def get(self, digest: str, kind: str) -> None:
        path = self.cache.blob_path(digest, kind)
        if path is None or not path.is_file():
            raise web.HTTPError(404, "no such frame")
        self.set_header("Content-Type", BLOB_KINDS[kind])
        self.set_header("Cache-Control", IMMUTABLE)
        self.set_header("Access-Control-Allow-Origin", "*")  # static pages from another origin
        self.set_etag_header()
        self.finish(path.read_bytes())

    def compute_etag(self) -> str | None:
        return f'"{self.path_args[0]}"' if self.path_args else None


class FrameBundleHandler(web.RequestHandler):
    """GET ``<base>/readingroom/frames/bundle/<digest>,<digest>....<kind>``: up to 16 cached blobs in one reply.

    Each blob comes as a 4-byte big-endian length and its bytes (length 0: not in the cache), in the
    order asked. On a link with a long round trip, one request for many small previews costs one
    round trip instead of many.
    """

    def initialize(self, cache: FrameCache) -> None:
        self.cache = cache

    def get(self, digests: str, kind: str) -> None:
        parts = []
        for digest in digests.split(","):
            path = self.cache.blob_path(digest, kind)
            data = path.read_bytes() if path is not None and path.is_file() else b""
            parts += [len(data).to_bytes(4, "big"), data]
        self.set_header("Content-Type", "application/octet-stream")
        self.set_header("Cache-Control", IMMUTABLE)
        self.set_header("Access-Control-Allow-Origin", "*")
        self.finish(b"".join(parts))


class ModuleHandler(web.RequestHandler):
    """GET ``<base>/readingroom/static/<version>/<module>.js``: the current widget modules only."""

    def initialize(self, version: str, sources: dict[str, str]) -> None:
        self.version, self.sources = version, sources

    def get(self, version: str, name: str) -> None:
        if version != self.version or name not in self.sources:
            raise web.HTTPError(404, "no such module version")
        self.set_header("Content-Type", "text/javascript; charset=utf-8")
        self.set_header("Cache-Control", IMMUTABLE)
        self.set_header("Access-Control-Allow-Origin", "*")
        self.finish(self.sources[name])


def route_base(base_url: str) -> str:
    """``base_url`` as routes and pages use it: starting and ending with "/"."""
    return "/" + base_url.strip("/") + "/" if base_url.strip("/") else "/"


def routes(base_url: str, cache: FrameCache) -> list[tuple]:
    """The tornado rules for our handlers under ``base_url``."""
    base = route_base(base_url)
    kinds = "|".join(BLOB_KINDS)
    names = "|".join(n.replace(".", r"\.") for n in module_names())
    return [
        (rf"{base}{FRAMES_PATH}/({DIGEST_PATTERN})\.({kinds})", FrameHandler, {"cache": cache}),
        (rf"{base}{FRAMES_PATH}/bundle/((?:{DIGEST_PATTERN},){{0,{MAX_BUNDLE - 1}}}{DIGEST_PATTERN})\.({kinds})",
         FrameBundleHandler, {"cache": cache}),
        (
            rf"{base}{STATIC_PATH}/([0-9a-f]+)/({names})",
            ModuleHandler,
            {"version": modules_version(), "sources": served_sources()},
        ),
    ]


__all__ = ["FRAMES_PATH", "IMMUTABLE", "STATIC_PATH", "FrameBundleHandler", "FrameHandler", "ModuleHandler", "routes"]
