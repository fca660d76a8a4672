"""The catalog index, thumbnails, the PHI gate, staged reveal and what is never served, over real HTTP."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from typer.testing import CliRunner

from readingroom.cli import app
from readingroom.server.catalog import public_id
from tests.serve.conftest import HEAD_CT, WITHHELD_SLUG

SECRETS = ("title", "diagnosis", "tags", "slug", "certainty")


def fetch(server, path: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(server.url + path.lstrip("/"), timeout=60) as reply:
            return reply.status, dict(reply.headers), reply.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def index(server, known: bool = False) -> list[dict]:
    status, _, body = fetch(server, "readingroom/catalog.json" + ("?known=1" if known else ""))
    assert status == 200
    return json.loads(body)


def metadata(server, slug: str) -> dict:
    return json.loads((server.dir / slug / "case.ipynb").read_text())["metadata"]["readingroom"]


class TestCatalogIndex:
    def test_unknown_index_lists_the_six_cases_without_answers(self, served):
        entries = index(served)
        assert len(entries) == 6
        text = json.dumps(entries).lower()
        for entry in entries:
            assert not set(SECRETS) & set(entry)
        assert "subdural" not in text and "metastases" not in text

    def test_known_index_adds_titles_and_tags(self, served):
        entries = {e["slug"]: e for e in index(served, known=True)}
        assert entries[HEAD_CT]["title"] == metadata(served, HEAD_CT)["title"]
        assert "trauma" in entries[HEAD_CT]["tags"]

    def test_a_case_failing_the_phi_checks_is_not_listed(self, served):
        ids = {e["id"] for e in index(served, known=True)}
        assert public_id(WITHHELD_SLUG) not in ids

    def test_catalog_page_embeds_only_the_unknown_index(self, served):
        status, headers, body = fetch(served, "/")
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert metadata(served, HEAD_CT)["title"].encode() not in body
        assert b"http://" not in body and b"https://" not in body  # works offline


class TestThumbnails:
    def test_thumbnail_is_a_small_immutable_jpeg(self, served):
        url = index(served)[0]["thumbnail"]
        status, headers, body = fetch(served, url)
        assert status == 200 and headers["Content-Type"] == "image/jpeg"
        assert body[:3] == b"\xff\xd8\xff" and len(body) < 60_000
        assert "immutable" in headers["Cache-Control"] and "max-age=31536000" in headers["Cache-Control"]

    def test_stale_or_unknown_thumbnail_versions_are_404(self, served):
        case_id = index(served)[0]["id"]
        assert fetch(served, f"readingroom/thumbnails/{case_id}-000000000000.jpg")[0] == 404
        assert fetch(served, f"readingroom/thumbnails/{public_id(WITHHELD_SLUG)}-000000000000.jpg")[0] == 404


class TestGate:
    def test_withheld_case_page_is_403_with_the_fix(self, served):
        status, _, body = fetch(served, f"cases/{public_id(WITHHELD_SLUG)}/")
        assert status == 403
        assert b"This case is withheld: it failed the de-identification checks." in body
        assert f"readingroom check cases/{WITHHELD_SLUG}".encode() in body
        assert b"Traceback" not in body

    def test_unknown_case_is_404(self, served):
        assert fetch(served, "cases/0123456789/")[0] == 404


RAW_PATHS = [
    "cases/{slug}/case.ipynb", "cases/{slug}/deid.json", "cases/{slug}/images/", "cases/{id}/case.ipynb",
    "cases/{id}/images/", "{slug}/case.ipynb", "files/{slug}/case.ipynb", "voila/files/{slug}/case.ipynb",
    "voila/files/{slug}/deid.json", "voila/render/{slug}/case.ipynb", "voila/tree", "voila/tree/{slug}",
    "voila/api/contents/{slug}/case.ipynb", "api/contents/{slug}/case.ipynb", "voila/files/{slug}/images/{image}",
    "voila/static/../../{slug}/case.ipynb",
]


@pytest.mark.parametrize("pattern", RAW_PATHS)
def test_nothing_under_cases_is_served_raw(served, pattern):
    image = next(p for p in (served.dir / HEAD_CT / "images").rglob("*") if p.is_file())
    path = pattern.format(slug=HEAD_CT, id=public_id(HEAD_CT), image=image.relative_to(served.dir / HEAD_CT / "images"))
    status, _, body = fetch(served, path)
    assert status in (403, 404), f"{path} answered {status}"
    assert b"DICM" not in body and b'"nbformat"' not in body


@pytest.fixture(scope="module")
def case_page(served) -> bytes:
    status, _, body = fetch(served, f"cases/{public_id(HEAD_CT)}/")
    assert status == 200
    return body


class TestStagedReveal:
    def test_case_page_holds_no_answer(self, served, case_page):
        answers = metadata(served, HEAD_CT)
        for secret in (answers["diagnosis"], "crescentic", "Differential", "Teaching points"):
            assert secret.encode() not in case_page, secret
        assert b"Reveal Findings" in case_page

    def test_stages_come_in_order_with_their_keys(self, served, case_page):
        case_id = public_id(HEAD_CT)
        assert fetch(served, f"readingroom/cases/{case_id}/stages/2?key=nope")[0] == 403
        key = case_page.split(b'data-key="')[1].split(b'"')[0].decode()
        status, headers, body = fetch(served, f"readingroom/cases/{case_id}/stages/1?key={key}")
        stage = json.loads(body)
        assert status == 200 and "no-store" in headers["Cache-Control"]
        assert "crescentic extra-axial collection" in stage["html"]
        assert metadata(served, HEAD_CT)["diagnosis"] not in stage["html"]
        assert fetch(served, f"readingroom/cases/{case_id}/stages/2?key={key}")[0] == 403
        final = json.loads(fetch(served, f"readingroom/cases/{case_id}/stages/2?key={stage['next']['key']}")[2])
        assert metadata(served, HEAD_CT)["diagnosis"] in final["html"] and final["next"] is None

    def test_withheld_case_stages_are_refused(self, served):
        assert fetch(served, f"readingroom/cases/{public_id(WITHHELD_SLUG)}/stages/1?key=x")[0] == 403


class TestCli:
    def test_missing_folder_is_one_line_and_exit_2(self, tmp_path):
        result = CliRunner().invoke(app, ["serve", str(tmp_path / "nope")])
        assert result.exit_code == 2
        assert "no such folder" in result.output and "Traceback" not in result.output

    def test_folder_without_cases_is_exit_2(self, tmp_path):
        result = CliRunner().invoke(app, ["serve", str(tmp_path)])
        assert result.exit_code == 2 and "no cases found" in result.output

    def test_bad_port_is_exit_2(self, tmp_path, served):
        result = CliRunner().invoke(app, ["serve", str(served.dir), "--port", "70000"])
        assert result.exit_code == 2 and "not a port number" in result.output
