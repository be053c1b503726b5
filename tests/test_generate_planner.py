"""Roles file, fact extraction and scenario planning with coverage."""

from __future__ import annotations

import pytest

from mimir.errors import ConfigError
from mimir.generate import GenerateConfig, coverage, load_roles, plan_scenarios
from mimir.facts.text import cloze, contains_fact, fact_sentences, fact_strings
from mimir.generate.roles import roles_from_dict
from mimir.types import Chunk
from tests.test_generate_engine import CHUNKS


def test_shipped_roles_file_is_rich_and_valid():
    book = load_roles("")
    assert len(book.roles) >= 15 and len({r.domain for r in book.roles.values()}) >= 4
    for domain in book.domains:
        kinds = {r.kind for r in book.in_domain(domain)}
        assert {"expert", "seeker"} <= kinds, domain
    assert book.get("doctor").sees_knowledge and not book.get("patient").sees_knowledge


@pytest.mark.parametrize("bad, message", [
    ({"roles": [{"name": "x", "domain": "d", "kind": "boss", "persona": "p"}]}, "kind 'boss'"),
    ({"roles": [{"name": "x", "domain": "d", "kind": "expert"}]}, "field `persona`"),
    ({"roles": [{"name": "x", "domain": "d", "kind": "expert", "persona": "p", "tool": []}]}, "unknown field"),
    ({"roles": "nope"}, "`roles` list"),
])
def test_bad_roles_are_named(bad, message):
    with pytest.raises(ConfigError, match=message):
        roles_from_dict(bad, where="my.yaml")


def test_fact_strings_and_cloze():
    s = "Riverbend Community Clinic opened on 14 March 2009; call 555-0182 or Room B7 between 07:30 and 19:00."
    facts = fact_strings(s)
    for expected in ["Riverbend Community Clinic", "14 March 2009", "555-0182", "B7", "07:30", "19:00"]:
        assert expected in facts
    assert "Room" not in facts and "2009" not in facts
    assert cloze(s, which=1) == s.replace("14 March 2009", "___")
    assert contains_fact("It opened on 14  march 2009.", facts) == ["14 March 2009"]
    text = "## Phones\n\n- Front desk: extension 2100.\n- Triage: extension\n  2147.\n\nDr. Amara Okafor leads. It is nice."
    assert fact_sentences(text) == ["Front desk: extension 2100.", "Triage: extension 2147.", "Dr. Amara Okafor leads."]


@pytest.mark.parametrize(
    "sentence, fact, phrase",
    [  # amounts a handbook states in words or with a qualifier were missed once (never asked, never learned)
        ("A copy of a record is sent within 9 business days.", "9 business days", "how many business days"),
        ("Sharps bins are replaced when they are three-quarters full.", "three-quarters", "what"),
        ("Visits last two hours.", "two hours", "how many hours"),
        ("Drovanex may be used for 14 consecutive nights.", "14 consecutive nights", "how many consecutive nights"),
        ("After 3 missed appointments a letter is sent.", "3", "how many"),
    ],
)
def test_amounts_in_words_and_counts_are_facts_with_a_fitting_question(sentence, fact, phrase):
    from mimir.facts.text import question_for

    assert fact in fact_strings(sentence)
    question = question_for(sentence)
    assert phrase in question.lower() and fact not in question


def test_list_numbers_are_not_facts_but_counts_in_text_are():
    assert fact_strings("1. call the desk.\n2) wait here.") == []
    assert fact_strings("Pager 4 is shared.") == ["4"]


def test_plan_covers_every_fact_several_times_in_different_contexts():
    config = GenerateConfig(questions_per_fact=2, facts_per_dialogue=2, group_sizes=[2, 3])
    scenarios = plan_scenarios(CHUNKS, load_roles(""), config)
    assert coverage(scenarios, CHUNKS) == {"chunks": 1.0, "fact_sentences": 1.0}
    for chunk in CHUNKS:
        for fact in fact_sentences(chunk.text):
            about = [s for s in scenarios if fact in s.focus]
            assert len(about) == 2
            hints = {s.focus_hints[s.focus.index(fact)] for s in about}
            assert len(hints) == 2 or len(fact_strings(fact)) == 1  # a different blank each time when possible
    assert len({s.id for s in scenarios}) == len(scenarios)
    assert {len(s.roles) for s in scenarios} == {2, 3}
    assert all(s.target_role == "doctor" and s.roles[1] == "doctor" for s in scenarios)
    assert {s.speaker_selection for s in scenarios if len(s.roles) == 3} == {"moderator"}
    assert len({s.roles[0] for s in scenarios}) > 1  # askers rotate


def test_capped_plan_spreads_over_all_chunks_first():
    chunks = [Chunk(id=f"c{i}", source="s", text=f"Room A{i} opens at 0{i % 9}:15. Call extension 21{i:02d}.") for i in range(10)]
    scenarios = plan_scenarios(chunks, load_roles(""), GenerateConfig(max_dialogues=10, facts_per_dialogue=1))
    assert len(scenarios) == 10 and {s.chunk_ids[0] for s in scenarios} == {c.id for c in chunks}


def test_plan_is_deterministic_and_validates():
    book = load_roles("")
    a = plan_scenarios(CHUNKS, book, GenerateConfig())
    assert [s.id for s in a] == [s.id for s in plan_scenarios(CHUNKS, book, GenerateConfig())]
    assert [s.id for s in a] != [s.id for s in plan_scenarios(CHUNKS, book, GenerateConfig(seed=1))]
    with pytest.raises(ConfigError, match="may not call 'google_search'"):
        plan_scenarios(CHUNKS, book, GenerateConfig(target_role="pharmacist", tools=["google_search"]))
    with pytest.raises(ConfigError, match="domain 'space'"):
        plan_scenarios(CHUNKS, book, GenerateConfig(domain="space"))
    with pytest.raises(ConfigError, match="no chunks"):
        plan_scenarios([], book, GenerateConfig())


def test_every_framework_carries_the_tools():
    # the expert calls a tool when its context lacks the answer, whatever its framework (#19)
    scenarios = plan_scenarios(CHUNKS, load_roles(""),
                               GenerateConfig(frameworks=["react", "cot"], tools=["knowledge_retriever", "tavily_search"]))
    assert {s.framework for s in scenarios} == {"react", "cot"}
    assert all(s.tools == ["knowledge_retriever", "tavily_search"] for s in scenarios)


def test_each_exposure_of_a_fact_asks_in_another_form_without_giving_the_answer():
    from mimir.facts.text import QUESTION_FORMS, question_for, subject_of

    sentence = "The infusion suite is Room B7 and has four reclining chairs."
    questions = [question_for(sentence, form=k) for k in range(len(QUESTION_FORMS))]
    assert len(set(questions)) == len(QUESTION_FORMS)
    assert all("B7" not in q and q.endswith("?") for q in questions)
    assert all("infusion suite" in q for q in questions)  # keyed on the same content words
    assert subject_of("The Medical Director is Dr. Amara Okafor and the Nurse Manager is Delphine Moreau",
                      "Delphine Moreau") == "the Nurse Manager"
    assert subject_of("Triage nurse line: extension 2147", "2147") == "Triage nurse line"


def test_copular_facts_are_also_asked_question_word_first():
    from mimir.facts.text import QUESTION_FORMS, question_for

    fronted = QUESTION_FORMS.index("{fronted}")
    assert question_for("The laboratory lead is Tomasz Wierzbicki.", 0, fronted) == "Who is the laboratory lead?"
    assert question_for("The infusion suite is Room B7.", 0, fronted) == "Which room is the infusion suite?"
    two = "The Medical Director is Dr. Amara Okafor and the Nurse Manager is Delphine Moreau."
    assert question_for(two, 1, fronted) == "Who is the Nurse Manager?"
    # Other verbs keep the in-place form rather than a broken inversion.
    visits = "The courier collects specimens at 10:15."
    assert question_for(visits, 0, fronted) == question_for(visits, 0, 0)


def test_a_phone_number_with_spaces_is_one_fact():
    assert fact_strings("The main switchboard number is 01632 960 480, open every Wednesday.")[0] == "01632 960 480"
    assert "020 7946 0958" in fact_strings("Call 020 7946 0958 before 10:00.")
    assert fact_strings("Rooms 101 and 102 seat 40 people.") == ["101", "102", "40"]
