"""Static site, nbconvert exporter and offline support; case pages come from the server's own renderer.

The site builder is imported on first use: the serving app needs only :mod:`.offline` from here
(the one service worker and offline scripts), not the builder and what it imports.
"""

__all__ = ["BuildReport", "SitePlan", "build", "plan"]


def __getattr__(name: str):
    if name in __all__:
        from readingroom.build import site

        return getattr(site, name)
    raise AttributeError(f"module 'readingroom.build' has no attribute {name!r}")
