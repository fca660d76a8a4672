"""Where a participant stands in a module: steps in order, never skipped, never undone."""

from __future__ import annotations

import dataclasses

from readingroom.server.catalog import public_id
from readingroom.server.learning.steps import Standing, step_keys


def test_steps_follow_the_accreditation_order(sample_module):
    assert step_keys(sample_module) == ("disclosures", "pre-test", "case-0", "case-1", "case-2", "post-test",
                                        "evaluation", "certificate")
    assert step_keys(dataclasses.replace(sample_module, pre_test=()))[:2] == ("disclosures", "case-0")


def test_the_page_resumes_at_the_first_step_not_done(sample_module):
    assert Standing.of(sample_module, 0).current == "disclosures"
    assert Standing.of(sample_module, 3).current == "cases"
    assert Standing.of(sample_module, 5).current == "post-test"
    assert Standing.of(sample_module, 8).current is None


def test_a_step_counts_only_once_reached_and_never_moves_back(sample_module):
    start = Standing.of(sample_module, 1)  # disclosures seen, pre-test next
    assert start.after("case-1") == 1  # a case further on does not skip the pre-test
    assert start.after("pre-test") == 2
    assert Standing.of(sample_module, 4).after("case-0") == 4  # reopening an earlier case changes nothing


def test_cases_are_linked_up_to_the_next_one_to_open(sample_module):
    cases = Standing.of(sample_module, 3).cases  # case 1 opened
    assert [(c.id, c.opened, c.reachable) for c in cases] == [
        (public_id(sample_module.cases[0]), True, True),
        (public_id(sample_module.cases[1]), False, True),
        (public_id(sample_module.cases[2]), False, False),
    ]
    assert Standing.of(sample_module, 3).done("disclosures") and not Standing.of(sample_module, 3).done("cases")


def test_a_module_without_a_pre_test_goes_from_disclosures_to_the_cases(sample_module):
    from readingroom.server.learning.base import environment

    module = dataclasses.replace(sample_module, pre_test=())
    html = environment().get_template("module.html").render(
        base="/", user=None, xsrf_token="x", module=module, view=Standing.of(module, 1), designation="",
        pass_percent=75, pre_questions=[], post_questions=[], minutes=0)
    assert "Pre-test" not in html
    assert f'href="/modules/{module.name}/cases/{public_id(module.cases[0])}"' in html
