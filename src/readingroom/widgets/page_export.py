"""What a case page with no kernel needs from the one run of its case, beyond the widgets' saved state.

The serving app runs a case notebook once (:mod:`readingroom.server.case_run`) and then,
in the same kernel, calls :func:`page_export_json`:

- ``keys``: each question's answer key, which stays on the server to score answers;
- ``manifests``: each viewer's series, all encoded, so the page can switch series
  without a kernel to encode the one asked for.
"""

from __future__ import annotations

import json

from readingroom.widgets.question import live_questions
from readingroom.widgets.viewer import live_viewers


def page_export_json() -> str:
    keys = {model_id: question.answer_key().to_json() for model_id, question in live_questions().items()}
    manifests = {model_id: viewer.all_manifests() for model_id, viewer in live_viewers().items()}
    return json.dumps({"keys": keys, "manifests": manifests})
