"""Question scoring in the kernel, and the answer key kept out of the synced state."""

from __future__ import annotations

import json

import pytest

from readingroom.errors import InputError
from readingroom.widgets import Question

PHANTOM = {"slices": 8, "size": 64, "pixel_spacing": (1.0, 1.0), "slice_spacing": 4.0}


def synced(widget) -> str:
    """Everything the browser can see: the synced state (bytes skipped) as JSON text."""
    state = {k: v for k, v in widget.get_state().items() if not isinstance(v, (bytes, memoryview))}
    return json.dumps(state)


def mcq(**kwargs):
    return Question.single(
        "Most likely diagnosis?", options=["Subdural haematoma", "Epidural haematoma", "Arachnoid cyst"],
        answer=1, feedback={0: "Crescentic, crosses sutures", 1: "Lentiform, limited by sutures"},
        explanation="SECRET-EXPLANATION", **kwargs)


def test_single_key_absent_before_answering():
    q = mcq()
    text = synced(q)
    for secret in ("SECRET-EXPLANATION", "Crescentic", "Lentiform"):
        assert secret not in text
    state = q.get_state()
    assert state["result"] == {} and state["response"] is None
    assert not any(k in state for k in ("answer", "answers", "feedback", "explanation", "_key"))


def test_single_wrong_then_right():
    q = mcq(attempts=2)
    r = q.submit(0)
    assert r["state"] == "incorrect" and not r["final"] and r["attempts_left"] == 1
    assert r["feedback"] == {"0": "Crescentic, crosses sutures"}
    assert "answer" not in r and "explanation" not in r  # not given away after a wrong try
    assert "Lentiform" not in synced(q)
    with pytest.raises(InputError):
        q.submit(1)  # must retry first
    q.retry()
    assert q.result == {} and q.attempts_used == 1
    r = q.submit(1)
    assert r["state"] == "correct" and r["final"] and r["answer"] == [1] and r["explanation"] == "SECRET-EXPLANATION"
    assert q.correct is True and q.settled
    with pytest.raises(InputError):
        q.submit(1)


def test_single_out_of_attempts_reveals_answer():
    q = mcq(attempts=1)
    r = q.submit(2)
    assert r["state"] == "incorrect" and r["final"] and r["answer"] == [1]
    assert r["feedback"] == {}
    q.reset()
    assert q.result == {} and q.attempts_used == 0


def test_unlimited_attempts():
    q = mcq(attempts=0)
    for _ in range(5):
        assert not q.submit(0)["final"]
        q.retry()


def test_multiple_needs_exactly_the_set():
    q = Question.multiple("Signs of mass effect?", options=["Midline shift", "Effaced sulci", "Calcification"],
                          answers={0, 1}, feedback={2: "Not a sign of mass effect"}, explanation="why", attempts=3)
    assert "why" not in synced(q)
    assert q.submit([0])["state"] == "incorrect"
    q.retry()
    r = q.submit([0, 2])
    assert r["state"] == "incorrect" and r["feedback"] == {"2": "Not a sign of mass effect"}
    q.retry()
    r = q.submit([1, 0])
    assert r["state"] == "correct" and r["answer"] == [0, 1]


def test_free_text_reveals_model_answer_only_after_submit():
    q = Question.free_text("Describe the findings.", model_answer="MODEL-ANSWER-TEXT")
    assert "MODEL-ANSWER-TEXT" not in synced(q)
    r = q.submit("a lentiform collection")
    assert r == {"state": "answered", "final": True, "model_answer": "MODEL-ANSWER-TEXT"}
    assert q.response == "a lentiform collection" and q.correct is None


def test_invalid_choices_and_definitions():
    q = mcq()
    for bad in (5, -1, True, "1", [1]):
        with pytest.raises(InputError):
            q.submit(bad)
    with pytest.raises(InputError):
        Question.single("?", options=["a", "b"], answer=2)
    with pytest.raises(InputError):
        Question.single("?", options=["a"], answer=0)
    with pytest.raises(InputError):
        Question.multiple("?", options=["a", "b"], answers={0, 7})


def test_browser_message_is_scored_and_errors_reported(monkeypatch):
    q = mcq()
    sent = []
    monkeypatch.setattr(q, "send", lambda content, buffers=None: sent.append(content))
    q._on_custom_message(q, {"type": "answer", "choice": 9}, [])
    assert sent and sent[-1]["type"] == "error" and q.result == {}
    q._on_custom_message(q, {"type": "answer", "choice": 1}, [])
    assert q.result["state"] == "correct"
    q._on_custom_message(q, {"type": "modules"}, [])
    assert sent[-1]["type"] == "modules" and "export default" in sent[-1]["sources"]["question.js"]


def test_on_answer_callback():
    q = mcq()
    seen = []
    q.on_answer(lambda question, result: seen.append(result["state"]))
    q.submit(0)
    assert seen == ["incorrect"]


def test_static_html_lists_prompt_and_options_never_the_answer():
    q = mcq()
    bundle = q._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    page = data["text/html"]
    assert "Most likely diagnosis?" in page and "Epidural haematoma" in page and "Arachnoid cyst" in page
    for secret in ("SECRET-EXPLANATION", "Lentiform", "Crescentic"):
        assert secret not in page
    assert "application/vnd.jupyter.widget-view+json" in data


def test_esm_is_a_small_loader_not_the_module():
    q = mcq()
    assert len(q._esm) < 4000 and "question.js" in q._esm


@pytest.fixture(scope="module")
def viewer(tmp_path_factory):
    from readingroom.dicom.synthetic import write_ct_phantom
    from readingroom.widgets import Viewer

    folder = tmp_path_factory.mktemp("phantom")
    write_ct_phantom(folder, **PHANTOM)
    return Viewer(folder, cache=tmp_path_factory.mktemp("cache"))


def test_locate_hit_and_miss_region_absent_before(viewer):
    viewer.frame = 3
    region = {"frame": 3, "center": [32.0, 40.0], "radius": [6.0, 4.0]}
    q = Question.locate("Click the lesion.", viewer=viewer, region=region, explanation="LOCATE-EXPLANATION")
    text = synced(q)
    assert "LOCATE-EXPLANATION" not in text and "40.0" not in text and "region" not in text
    assert q._image.startswith(b"\x89PNG") and q._image_info == {"frame": 3, "width": 64, "height": 64}
    r = q.submit({"frame": 3, "x": 32 + 7, "y": 40})  # just outside rx
    assert r["state"] == "incorrect" and not r["hit"] and "region" not in r
    q.retry()
    r = q.submit({"frame": 3, "x": 36, "y": 42})
    assert r["state"] == "correct" and r["hit"] and r["region"] == region


def test_locate_wrong_frame_is_a_miss_and_image_follows_viewer(viewer):
    viewer.frame = 2
    q = Question.locate("Click the lesion.", viewer=viewer,
                        region={"frame": 3, "center": [32, 40], "radius": [6, 6]}, attempts=1)
    assert q._image_info["frame"] == 2
    viewer.frame = 4
    assert q._image_info["frame"] == 4
    r = q.submit({"frame": 4, "x": 32, "y": 40})
    assert r["state"] == "incorrect" and r["final"] and r["hint"]
    assert q._image_info["frame"] == 3  # settled: shows the region's frame with the region


def test_locate_validates_region(viewer):
    with pytest.raises(InputError):
        Question.locate("?", viewer=viewer, region={"frame": 99, "center": [1, 1], "radius": [1, 1]})
    with pytest.raises(InputError):
        Question.locate("?", viewer=viewer, region={"center": [1, 1]})
