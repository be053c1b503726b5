"""Deterministic filters: each catches its defect and leaves clean dialogues alone."""

from __future__ import annotations

import copy

import pytest

from mimir.types import Dialogue, Scenario, ToolCall, Turn
from mimir.verify import filters
from mimir.verify.config import VerifyConfig
from mimir.verify.dedup import NearDuplicateIndex
from mimir.errors import ConfigError
from tests.fixtures.verify.clinic_dialogues import build_dialogues

CONFIG = VerifyConfig()


def _d(turns: list[Turn], **scenario) -> Dialogue:
    s = Scenario(id="s", topic="t", roles=["patient", "doctor"], target_role="doctor", chunk_ids=["k"],
                 tools=["knowledge_search"])
    for k, v in scenario.items():
        setattr(s, k, v)
    return Dialogue(id="d", scenario=s, turns=turns)


GOOD = [
    Turn("patient", "user", "How long can I take Drovanex for my sleep problems?"),
    Turn("doctor", "assistant", "Drovanex is taken at bedtime for at most fourteen nights in a row."),
    Turn("patient", "user", "Thanks, that is clear."),
    Turn("doctor", "assistant", "You're welcome."),
]


def _codes(reasons: list[str]) -> list[str]:
    return [r.split(":")[0] for r in reasons]


def _all(d: Dialogue, language: str = "en") -> list[str]:
    return filters.check_structure(d, CONFIG) + filters.check_turns(d, CONFIG) + filters.check_language(d, language, CONFIG)


def test_clean_dialogues_pass_every_filter():
    assert _all(_d(GOOD)) == []
    dialogues, _, _ = build_dialogues()
    assert all(_all(d) == [] for d in dialogues), [(_all(d), d.meta) for d in dialogues if _all(d)][:3]


def test_failed_generation_is_rejected_with_its_error():
    d = _d(GOOD)
    d.status, d.error = "failed", "backend timed out"
    assert filters.check_structure(d, CONFIG) == ["generation_failed: backend timed out"]


@pytest.mark.parametrize(
    "change, code",
    [
        (lambda t: t.__setitem__(1, Turn("doctor", "assistant", "   ")), "empty_turn"),
        (lambda t: t.__setitem__(1, Turn("doctor", "assistant", "Drovanex is taken at bedtime for at most fourteen nights and")), "truncated_turn"),
        (lambda t: t.__setitem__(1, Turn("doctor", "assistant", "Take it at bedtime.", meta={"finish_reason": "length"})), "truncated_turn"),
        (lambda t: t.__setitem__(1, Turn("doctor", "assistant", "x" * 5000 + ".")), "too_long_turn"),
        (lambda t: t.__setitem__(1, Turn("doctor", "assistant", "Take it at bedtime. " * 12)), "repetition_loop"),
        (lambda t: t.__setitem__(3, Turn("doctor", "assistant", GOOD[1].content)), "repeated_turn"),
        (lambda t: t.__setitem__(1, Turn("doctor", "assistant", "Take it at bedtime.\nPatient: Thanks!")), "format_leak"),
        (lambda t: t.__setitem__(1, Turn("doctor", "assistant", "Take it at bedtime.<|im_end|>")), "format_leak"),
    ],
)
def test_turn_defects(change, code):
    turns = copy.deepcopy(GOOD)
    change(turns)
    assert code in _codes(filters.check_turns(_d(turns), CONFIG))


@pytest.mark.parametrize(
    "turns, code",
    [
        (GOOD[:1], "too_few_turns"),
        ([GOOD[0], Turn("doctor", "user", "Take it at bedtime."), *GOOD[2:]], "role_mismatch"),
        ([GOOD[0], GOOD[1], GOOD[1], GOOD[3]], "speaker_order"),
        ([GOOD[0], Turn("nurse", "user", "I can help."), *GOOD[1:]], "unknown_speaker"),
        ([GOOD[0], Turn("patient", "user", "Hello?"), *GOOD[1:]], "speaker_order"),
        ([Turn("patient", "user", "Hi, a question about Drovanex please."), Turn("patient", "user", "Anyone?")], "no_expert_turn"),
    ],
)
def test_structure_defects(turns, code):
    assert code in _codes(filters.check_structure(_d(list(turns)), CONFIG))


def test_tool_calls_need_their_observations():
    call = ToolCall(id="c1", name="knowledge_search", arguments={"query": "drovanex"})
    ok = [GOOD[0], Turn("doctor", "assistant", "", tool_calls=[call]),
          Turn("tool", "tool", "Drovanex: 5 mg at bedtime.", tool_call_id="c1"), *GOOD[1:]]
    assert filters.check_structure(_d(ok), CONFIG) == []
    missing = [GOOD[0], Turn("doctor", "assistant", "", tool_calls=[call]), *GOOD[1:]]
    assert "tool_call_without_observation" in _codes(filters.check_structure(_d(missing), CONFIG))
    ended = [*GOOD, Turn("doctor", "assistant", "", tool_calls=[call])]
    assert "tool_call_without_observation" in _codes(filters.check_structure(_d(ended), CONFIG))
    orphan = [GOOD[0], Turn("tool", "tool", "Drovanex: 5 mg.", tool_call_id="c9"), *GOOD[1:]]
    assert "orphan_observation" in _codes(filters.check_structure(_d(orphan), CONFIG))
    wrong_tool = [GOOD[0], Turn("doctor", "assistant", "", tool_calls=[ToolCall(id="c1", name="web_search")]),
                  Turn("tool", "tool", "...", tool_call_id="c1"), *GOOD[1:]]
    assert "unknown_tool" in _codes(filters.check_structure(_d(wrong_tool), CONFIG))


def test_language_mismatch_is_flagged_only_when_sure():
    french = copy.deepcopy(GOOD)
    french[1] = Turn("doctor", "assistant", "Le Drovanex se prend au coucher, pendant quatorze nuits au maximum, jamais plus longtemps.")
    assert _codes(filters.check_language(_d(french), "en", CONFIG)) == ["language_mismatch"]
    assert filters.check_language(_d(french), "any", CONFIG) == []
    assert filters.check_language(_d(GOOD), "en", CONFIG) == []  # short turns are not judged


def test_length_bounds_come_from_the_config():
    strict = VerifyConfig(min_turns=6)
    assert "too_few_turns" in _codes(filters.check_structure(_d(GOOD), strict))
    assert "too_many_turns" in _codes(filters.check_structure(_d(GOOD), VerifyConfig(min_turns=1, max_turns=3)))
    with pytest.raises(ConfigError, match="min_turns"):
        VerifyConfig(min_turns=5, max_turns=2)


def test_near_duplicates_keep_the_first_in_order():
    dialogues, _, _ = build_dialogues()
    index = NearDuplicateIndex(0.8)
    assert all(index.check_and_add(d) is None for d in dialogues)  # distinct questions: no duplicates
    twin = copy.deepcopy(dialogues[0])
    twin.id = "twin"
    twin.turns[-1].content = "Glad I could help, take care!"
    hit = index.check_and_add(twin)
    assert hit is not None and hit[0] == dialogues[0].id and hit[1] >= 0.8


def test_a_short_answer_that_states_its_value_then_its_sentence_is_no_loop():
    from mimir.verify.filters import repeated_ngram_ratio

    assert repeated_ngram_ratio("From 8:30 to 17:30. Reception is staffed Monday to Friday from 8:30 to 17:30.") == 0.0
    assert repeated_ngram_ratio("Take it at bedtime. " * 12) > 0.3
    long_loop = "The clinic opens at eight and the clinic opens at eight " * 3 + "and that is all there is to say about it today."
    assert repeated_ngram_ratio(long_loop) > 0.3
