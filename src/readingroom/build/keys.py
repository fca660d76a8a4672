"""Answer keys a static page can check without holding the answer: salted SHA-256 of the right choice.

A built site has no server to score answers, so each question's page entry carries
``sha256(f"{salt}:{canonical choice}")`` and the page (``widgets/answer_check.js``)
hashes the learner's choice the same way. The answer itself, the feedback and the
explanation travel with the next stage's file, fetched only when revealed. A question
with only a handful of options can be guessed from its hash by trying each one, as it
can by answering: the hash keeps the answer out of the page's text, not out of reach.
Free-text and locate questions are marked answered and get their answer with the next stage.
"""

from __future__ import annotations

import hashlib
import json

from readingroom.widgets.answers import AnswerKey


def canonical(key: AnswerKey) -> str | None:
    """The right choice as the page serialises a choice (JSON, sorted indices), or None when not hashable."""
    if key.kind == "single":
        return json.dumps(key.key)
    if key.kind == "multiple":
        return json.dumps(sorted(key.key), separators=(",", ":"))
    return None


def hashed_key(key: AnswerKey, salt: str) -> dict:
    """What the page gets for one question: its kind, attempts, and the salted hash of its answer."""
    entry = {"kind": key.kind, "attempts": key.attempts}
    right = canonical(key)
    if right is not None:
        entry.update(salt=salt, hash=hashlib.sha256(f"{salt}:{right}".encode()).hexdigest())
    return entry


def question_salt(case_version: str, model_id: str) -> str:
    """A salt per question and case version: the same build gives the same page, so rebuilds are stable."""
    return hashlib.blake2b(f"{case_version}\0{model_id}".encode(), digest_size=12).hexdigest()
