"""Fixtures for the de-identification tests; the corpus itself is built by phi_corpus.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.system_packages import require
from .phi_corpus import Corpus, build_corpus  # noqa: F401  (Corpus: the fixture type)


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    return build_corpus(tmp_path_factory.mktemp("phi-corpus") / "incoming")


@pytest.fixture(scope="session")
def key_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def two_runs(corpus, key_dir, tmp_path_factory):
    """The corpus de-identified twice with one key: once in one process, once on two."""
    from readingroom.deid import deidentify

    require("tesseract")
    out = tmp_path_factory.mktemp("deid-out")
    key = key_dir / "deid.key"
    first = deidentify(corpus.root, out / "run1", key_path=key, workers=1)
    second = deidentify(corpus.root, out / "run2", key_path=key, workers=2)
    return out / "run1", out / "run2", first, second, key


@pytest.fixture
def copy_of(tmp_path):
    def _copy(folder: Path) -> Path:
        target = tmp_path / "src"
        shutil.copytree(folder, target)
        return target

    return _copy
