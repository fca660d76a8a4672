"""What a case page with no kernel needs from the one run of its case, beyond the widgets' saved state.

The serving app runs a case notebook once (:mod:`readingroom.server.case_run`) and then,
in the same kernel, calls :func:`page_export_json`:

- ``keys``: each question's answer key, which stays on the server to score answers;
- ``widgets``: what a widget's page entry needs besides its state: a viewer's series,
  all encoded (``manifests``), so the page switches series without a kernel to encode the
  one asked for; a locate question's ``viewer``, whose view its image follows, as the
  kernel makes it follow.
"""

from __future__ import annotations

import json

from readingroom.widgets.question import live_questions
from readingroom.widgets.viewer import live_viewers


def page_export_json() -> str:
    questions = live_questions()
    keys = {model_id: question.answer_key().to_json() for model_id, question in questions.items()}
    widgets = {model_id: {"manifests": viewer.all_manifests()} for model_id, viewer in live_viewers().items()}
    widgets.update({model_id: {"viewer": q.viewer.model_id} for model_id, q in questions.items() if q.viewer is not None})
    return json.dumps({"keys": keys, "widgets": widgets})
