"""The page's rules come from domain/ once: every status with a word, a mark and readable colours."""
from apps.api.domain.statuses import JOB_STATUSES, PRIORITIES, STEP_STATUSES, page_rules
from apps.api.domain.workflow import STEP_TRANSITIONS


def luminance(colour):
    channels = [int(colour[index:index + 2], 16) / 255 for index in (1, 3, 5)]
    red, green, blue = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast(one, other):
    light, dark = sorted((luminance(one), luminance(other)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_every_status_is_served_with_a_word_a_mark_and_readable_colours():
    rules = page_rules()
    for key, codes in (("job_statuses", JOB_STATUSES), ("step_statuses", STEP_STATUSES),
                       ("priorities", PRIORITIES)):
        assert [status["code"] for status in rules[key]] == list(codes)
        for status in rules[key]:
            assert status["label"] and status["mark"]
            assert contrast(status["colour"], status["text"]) >= 4.5, status
    assert {key: set(value) for key, value in rules["step_transitions"].items()} == STEP_TRANSITIONS
    for start, moves in rules["step_moves"].items():  # every move offered is a legal one, with its words
        assert all(end in STEP_TRANSITIONS[start] and label for end, label in moves)
    assert rules["roles"] == ["viewer", "operator", "manager", "admin"]


def test_the_page_carries_the_rules(client):
    body = client.get("/").get_data(as_text=True)
    assert '<script type="application/json" id="rules">' in body and '"step_transitions"' in body
