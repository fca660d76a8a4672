"""What a case page with no kernel needs from the one run of its case, read out of the kernel.

The serving app runs a case notebook once (:mod:`readingroom.server.case_run`) and, in
the same kernel, calls :func:`page_export_json` after each reveal stage's cells:

- ``state``: every widget's state as it is at that point, so the unknown view's widgets
  carry nothing a later stage adds (an arrow on the finding), and a revealed stage can
  bring both its own widgets and what it changed in earlier ones;
- ``keys``: each question's answer key, which stays on the server to score answers;
- ``widgets``: what a widget's page entry needs besides its state: a viewer's series,
  all encoded (``manifests``), so the page switches series without a kernel to encode the
  one asked for; a locate question's ``viewer``, whose view its image follows, as the
  kernel makes it follow.
"""

from __future__ import annotations

import json

from ipywidgets import Widget

from readingroom.widgets.question import live_questions
from readingroom.widgets.viewer import live_viewers


def page_export_json() -> str:
    questions = live_questions()
    keys = {model_id: question.answer_key().to_json() for model_id, question in questions.items()}
    widgets = {model_id: {"manifests": viewer.all_manifests()} for model_id, viewer in live_viewers().items()}
    widgets.update({model_id: {"viewer": q.viewer.model_id} for model_id, q in questions.items() if q.viewer is not None})
    state = Widget.get_manager_state(drop_defaults=False)["state"]
    return json.dumps({"state": state, "keys": keys, "widgets": widgets})
