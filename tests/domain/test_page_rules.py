"""The shared rules are defined once in domain/ and served to the page, which restates none of them."""
import html
import json
import re

import pytest

from apps.api.domain import statuses
from apps.api.domain.workflow import JOB_TRANSITIONS, STEP_TRANSITIONS
from tests.support.colours import DEUTERANOPIA, PROTANOPIA, TYPICAL, closest_pair, contrast
from tests.support.restated import findings, page_restatements

LOOKS = {"job": statuses.JOB_LOOKS, "step": statuses.STEP_LOOKS, "machine": statuses.MACHINE_LOOKS,
         "priority": statuses.PRIORITY_LOOKS}
EMBEDDED = re.compile(r'<script type="application/json" id="rules">(.*?)</script>', re.S)


def test_the_page_embeds_exactly_the_domains_rules(client):
    answer = client.get("/")
    assert answer.status_code == 200
    found = EMBEDDED.search(answer.get_data(as_text=True))
    assert found, "the page template does not embed the rules"
    assert json.loads(html.unescape(found.group(1))) == json.loads(json.dumps(statuses.page_rules()))


def test_the_rules_follow_the_workflow():
    rules = statuses.page_rules()
    assert [s["code"] for s in rules["job_statuses"]] == list(statuses.JOB_STATUSES)
    assert [s["code"] for s in rules["step_statuses"]] == list(statuses.STEP_STATUSES)
    assert {k: set(v) for k, v in rules["job_transitions"].items()} == JOB_TRANSITIONS
    assert {k: set(v) for k, v in rules["step_transitions"].items()} == STEP_TRANSITIONS
    assert rules["step_transitions"] == {  # issue 26's workflow: a running step may pause, with its reason
        "pending": ["in_progress", "skipped"], "in_progress": ["paused", "completed", "skipped"],
        "paused": ["in_progress", "skipped"], "completed": ["pending"], "skipped": ["pending"]}
    assert rules["roles"] == ["viewer", "operator", "manager", "admin"]
    for start, moves in rules["step_moves"].items():
        assert {end for end, _ in moves} <= STEP_TRANSITIONS[start]


@pytest.mark.parametrize("kind", LOOKS)
def test_every_badge_reads_at_4_5_to_1_with_a_word_and_a_mark(kind):
    for code, look in LOOKS[kind].items():
        assert contrast(look.colour, look.text) >= 4.5, (kind, code, round(contrast(look.colour, look.text), 2))
        assert look.label and look.mark, (kind, code)
    marks = [look.mark for look in LOOKS[kind].values()]
    assert len(set(marks)) == len(marks), f"two {kind} statuses share a mark"


@pytest.mark.parametrize("kind", ["job", "step", "machine"])
@pytest.mark.parametrize("vision", [TYPICAL, DEUTERANOPIA, PROTANOPIA], ids=["typical", "deuteranopia", "protanopia"])
def test_status_colours_stay_apart_for_the_colour_blind(kind, vision):
    colours = {code: look.colour for code, look in LOOKS[kind].items()}
    distance, one, other = closest_pair(colours, vision)
    assert distance >= 15, f"{kind} {one} and {other} look alike ({distance:.1f} CIE76)"


def test_the_check_finds_a_planted_restatement():
    planted = 'const OPEN = new Set(["draft", "active"]); const RANK = {viewer: 0, admin: 3};\n' \
              f".badge.s-on_hold {{ background: {statuses.JOB_LOOKS['on_hold'].colour}; }}"
    assert len(findings("planted.js", planted)) == 4


def test_no_page_file_restates_a_status_a_transition_a_role_or_a_status_colour():
    assert page_restatements() == []
