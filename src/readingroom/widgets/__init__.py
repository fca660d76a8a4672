"""Python side of the anywidget widgets; front ends are ES modules in ``widgets/``.

``Viewer`` is imported lazily so ``readingroom.widgets.assets`` (used by the
server) does not import Jupyter widget machinery.
"""

__all__ = ["Question", "Viewer", "side_by_side"]


def __getattr__(name):
    if name in ("Viewer", "side_by_side"):
        from readingroom.widgets import viewer

        return getattr(viewer, name)
    if name == "Question":
        from readingroom.widgets.question import Question

        return Question
    raise AttributeError(f"module 'readingroom.widgets' has no attribute {name!r}")
