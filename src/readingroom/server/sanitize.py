"""Case and module markdown as HTML that cannot run anything: rendered, then cleaned by nh3.

Markdown may hold raw HTML, and a notebook's saved outputs may hold HTML too; served on
the site's origin, a ``<script>`` or an ``onerror=`` there would run with a visitor's
session. nh3 (Rust's ammonia) keeps an allowlist of tags and attributes and drops
everything else, so what an author wrote reads the same and nothing in it runs.
``readingroom check`` names such markup in a case (:func:`readingroom.case.check.active_markup`).
"""

from __future__ import annotations

import nh3

# Beyond nh3's defaults: classes (code highlighting, our roles) and a table column's alignment.
# No ids: one could shadow the page's own elements (its config script is found by id).
ATTRIBUTES = {**{tag: set(names) for tag, names in nh3.ALLOWED_ATTRIBUTES.items()},
              "*": {"class"}, "th": {*nh3.ALLOWED_ATTRIBUTES["th"], "style"},
              "td": {*nh3.ALLOWED_ATTRIBUTES["td"], "style"}}


def clean_html(html: str) -> str:
    """``html`` with scripts, event handlers, ``javascript:`` links and unknown tags removed."""
    return nh3.clean(html, attributes=ATTRIBUTES, filter_style_properties={"text-align"})


def markdown_html(text: str) -> str:
    """Markdown as Jupyter renders it (nbconvert's mistune), cleaned."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    return clean_html(markdown2html_mistune(text))
