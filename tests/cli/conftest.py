import pytest
from typer.testing import CliRunner

from readingroom.cli import app

from ..conftest import plant_phi


@pytest.fixture
def run():
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(app, [str(a) for a in args])

    return invoke


@pytest.fixture
def ct_with_phi(small_ct):
    return plant_phi(small_ct)
