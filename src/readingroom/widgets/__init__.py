"""Python side of the anywidget widgets; front ends are ES modules in ``widgets/``.

``Viewer`` is imported lazily so ``readingroom.widgets.assets`` (used by the
server) does not import Jupyter widget machinery.
"""

__all__ = ["Viewer"]


def __getattr__(name):
    if name == "Viewer":
        from readingroom.widgets.viewer import Viewer

        return Viewer
    raise AttributeError(f"module 'readingroom.widgets' has no attribute {name!r}")
