"""Live CME credit in the app: a clinician who attended a module's conference gets a live certificate."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

from pypdf import PdfReader

from readingroom.records import RecordsStore
from readingroom.server.catalog import public_id
from tests.learning.client import Visitor, text_of

CLINICIAN = {"display_name": "Dr Rural Clinician", "username": "rural", "password": "a passphrase for the clinic"}
EVALUATION = {"quality": 4, "objectives-met": 0, "practice-change": "Compare both hemispheres on every head CT.",
              "free-of-bias": 0}


def test_attending_the_modules_conference_earns_a_live_certificate(learning_served, sample_module):
    name, page = sample_module.name, f"modules/{sample_module.name}"
    started = datetime.now(UTC) - timedelta(hours=2)
    with RecordsStore(learning_served.records_url) as store:  # what `conference start <module>` records
        clinician = store.add_participant(CLINICIAN["display_name"], licence_id="MD-40417",
                                          username=CLINICIAN["username"], password=CLINICIAN["password"])
        session = store.create_session("module", name, started, started + timedelta(minutes=60))
        store.record_join(session.id, clinician.id, started + timedelta(minutes=5))  # 55 minutes present

    visitor = Visitor(learning_served.url)
    assert visitor.sign_in(CLINICIAN["username"], CLINICIAN["password"])[0] == 200
    assert visitor.post(f"{page}/disclosures", {})[0] == 200
    assert visitor.post(f"{page}/tests/pre", {q.id: 0 for q in sample_module.pre_test})[0] == 200
    for slug in sample_module.cases:
        assert visitor.redirect_of(f"{page}/cases/{public_id(slug)}")[0] == 302
    assert visitor.post(f"{page}/tests/post", {q.id: q.answer for q in sample_module.post_test})[0] == 200
    status, _, body = visitor.post(f"{page}/evaluation", EVALUATION)

    # No time on task was recorded: the credit is the conference's (55 minutes, capped at 0.75).
    assert status == 200 and "Credit awarded (live, conference of" in text_of(body)
    assert "self-study" not in text_of(body)
    code = re.search(r'class="certificate-code">([A-Z0-9]{12})<', body.decode()).group(1)
    status, _, pdf = visitor.get(f"{page}/certificate.pdf?code={code}")
    words = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert status == 200 and "live activity" in words and "MD-40417" in words and code in words
