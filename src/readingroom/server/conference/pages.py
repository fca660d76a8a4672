"""The presenter console and the participant page (being built; see docs/conference-protocol.md)."""

from __future__ import annotations


def page_routes(base: str, conferences, catalog, secret: bytes) -> list[tuple]:
    return []
