"""Helpers shared by the de-identification tests."""

from __future__ import annotations

import os

import pytest


def require_tool(available: bool, what: str) -> None:
    """Skip on a developer machine without ``what``; fail in CI, which installs it."""
    if not available:
        if os.environ.get("CI"):
            pytest.fail(f"{what} is missing in CI; .ci/run installs it")
        pytest.skip(f"{what} not installed (apt-get install it to run this test)")
