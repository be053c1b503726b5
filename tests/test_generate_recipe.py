"""The data recipe: presets, held-out check questions, grounded answers, dialogues, replay."""

from __future__ import annotations

from collections import Counter

from mimir.generate.recipe import (
    FactPlan, RecipeConfig, RecipeReport, add_model_questions, answer_for, answer_problem, check_questions,
    choose_preset, passage_dialogues, plan_facts, replay_records, small_dialogues, split_held_out, subject_dialogues,
)
from mimir.models.scripted import ScriptedModel
from mimir.types import Chunk

TEXT = ("The laboratory lead is Tomasz Wierzbicki. Walk-in registration closes at 17:45 on weekdays. "
        "The infusion suite is Room B7 and has four reclining chairs.")


def _chunk() -> Chunk:
    return Chunk(id="c1", text=TEXT, source="handbook.md", heading="Rooms")


def test_preset_is_chosen_from_the_generator_and_says_why():
    assert choose_preset("local")[0] == "small"
    assert choose_preset("endpoint:meta-llama/Llama-3.1-70B-Instruct@http://127.0.0.1:8000/v1")[0] == "roleplay"
    assert choose_preset("local:Qwen/Qwen2.5-0.5B-Instruct") == ("small", "'local:Qwen/Qwen2.5-0.5B-Instruct' has ~500M parameters (<= 1.2B)")
    assert choose_preset("local:Qwen/Qwen2.5-7B-Instruct")[0] == "roleplay"
    assert choose_preset("local", "roleplay") == ("roleplay", "set in the config (roleplay)")


def test_model_questions_are_checked_before_they_are_kept():
    report = RecipeReport()
    plans = plan_facts([_chunk()], RecipeConfig(), report)
    replies = {"Tomasz": "Who leads the laboratory team?", "17:45": "Seen within how many hours?", "B7": "What is B7?"}

    def reply(conversation):  # continues the prefilled opening, as a real model does
        opening = conversation[-1]["content"]
        assert conversation[-1]["prefill"] and conversation[-1]["role"] == "assistant"
        question = next(v for k, v in replies.items() if k in conversation[-2]["content"])
        return question[len(opening):] if question.startswith(opening) else ""

    add_model_questions(plans, ScriptedModel(default=reply), report)
    lead = next(p for p in plans if p.target == "Tomasz Wierzbicki")
    assert "Who leads the laboratory team?" in lead.train
    assert report.questions["model"] == 1
    # the others are fragments, give the value away, or are only an opening
    assert sum(report.rejected.values()) == 5 and all(k.startswith("model:") for k in report.rejected)


def test_held_out_forms_never_reach_training():
    report = RecipeReport()
    plans = plan_facts([_chunk()], RecipeConfig(), report)
    split_held_out(plans, RecipeConfig(), report)
    held = {q.question for q in check_questions(plans)}
    assert held
    dialogues = small_dialogues(plans, RecipeConfig(questions_per_fact=4), "patient", "doctor", report)
    trained = {t.content for d in dialogues for t in d.turns if t.role == "user"}
    assert not held & trained
    # every fact with a training form is asked questions_per_fact times
    asked = Counter(t.meta["target"] for d in dialogues for t in d.turns if t.role == "user")
    assert set(asked.values()) == {4}


def test_expert_answers_state_the_asked_value_first():
    plan = FactPlan(_chunk(), "The clinic is open Monday to Friday from 07:30 to 19:00.", "19:00")
    for form in range(4):
        answer = answer_for(plan, form)
        assert answer_problem(answer, plan.target, plan.sentence) is None
    assert answer_problem("It opens at 07:30.", "19:00", plan.sentence) == "misses_value"
    assert answer_problem("It opens at 07:30. It closes at 19:00.", "19:00", plan.sentence) == "states_other_value_first"


def test_value_first_off_answers_every_exchange_with_the_source_clause():
    plan = FactPlan(_chunk(), "Walk-in registration closes at 17:45 on weekdays.", "17:45")
    assert {answer_for(plan, form) for form in range(4)} == {"17:45. Walk-in registration closes at 17:45 on weekdays.",
                                                            "Walk-in registration closes at 17:45 on weekdays."}
    assert {answer_for(plan, form, value_first=False) for form in range(4)} == {"Walk-in registration closes at 17:45 on weekdays."}


def test_dialogue_share_without_system_prompt_follows_the_config():
    report = RecipeReport()
    plans = plan_facts([_chunk()], RecipeConfig(), report)
    dialogues = small_dialogues(plans, RecipeConfig(questions_per_fact=20, facts_per_dialogue=1, system_prompt_share=0.5),
                                "patient", "doctor", report)
    share = sum(d.meta["system_prompt"] for d in dialogues) / len(dialogues)
    assert 0.3 < share < 0.7


def test_replay_records_are_the_base_models_own_answers():
    model = ScriptedModel(default=lambda conversation: f"answer to {conversation[-1]['content']}")
    rows = replay_records(model, 5)
    assert len(rows) == 5
    for row in rows:
        user, assistant = row["messages"]
        assert assistant["content"] == f"answer to {user['content']}" and row["metadata"]["source"] == "replay"


def test_replay_answers_that_loop_or_were_cut_are_not_trained_as_they_are():
    from mimir.generate.recipe import clean_replay

    assert clean_replay("Boil an egg:\n\nBoil an egg:\n\nBoil an egg:\n\nBoil an egg:\n\nBoil an egg:\n\nBoil an egg:") == ""
    cut = "Packing for a hike needs a plan. Bring water and a map for the route. Pack essentials that keep you energized and c"
    assert clean_replay(cut, "length") == "Packing for a hike needs a plan. Bring water and a map for the route."
    assert clean_replay("Pack essentials that keep you energized and c", "length") == ""  # no whole sentence to keep
    assert clean_replay("The capital of France is Paris.") == "The capital of France is Paris."


def test_a_capped_run_keeps_facts_that_have_held_out_forms():
    report = RecipeReport()
    chunks = [Chunk(id="t", text="week_starting: 2026-02-02; on_call: Dr. Ana Lima; pager: 41.", source="rota.csv"), _chunk()]
    plans = plan_facts(chunks, RecipeConfig(max_facts=2), report)
    assert all(len(p.train) >= 2 for p in plans)


def test_passages_are_recited_in_the_documents_words_under_their_topic():
    chunk = Chunk(id="c2", text="## 3. Conflict Checks\n\nThe Records team (extension 630) runs the check. Retainers are taken "
                  "before work begins:\n\n- Commercial disputes require a retainer of $5,000.\n" + "Filler words here. " * 20,
                  source="handbook.md", heading="Fenwick & Lowry LLP — Client Intake Policy > 3. Conflict Checks")
    report = RecipeReport()
    dialogues = passage_dialogues([chunk], RecipeConfig(passage_exposures=2, passage_words=30), "client", "lawyer", report)
    assert report.passages == len(dialogues) and len(dialogues) >= 4
    questions = [d.turns[0].content for d in dialogues]
    answers = [d.turns[1].content for d in dialogues]
    assert all("conflict checks" in q for q in questions) and "Client Intake Policy" in " ".join(questions)
    assert "The Records team (extension 630) runs the check." in answers[0]
    # each sentence is recited once per exposure, and the second exposure cuts the passages elsewhere
    assert sum("Commercial disputes require" in a for a in answers) == 2 and len(set(answers)) > len(answers) // 2
    assert "Commercial disputes require a retainer of $5,000." in " ".join(answers)
    assert all(len(a.split()) <= 30 for a in answers) and not any(":." in a or "#" in a for a in answers)
    assert all(d.turns[1].role == "assistant" and d.meta["passage"] for d in dialogues)
    assert passage_dialogues([chunk], RecipeConfig(passage_exposures=0), "client", "lawyer", RecipeReport()) == []


def test_a_passage_topic_keeps_the_names_in_its_heading():
    welcome = Chunk(id="c7", text="We opened our doors on 14 March 2019 and today host around 140 members. " * 3,
                    source="handbook.md", heading="Bobbinhall Works: Member and Staff Handbook > Welcome to Bobbinhall Works")
    rooms = Chunk(id="c8", text="Book a room in the members' app. Surgery hours are posted. " * 6, source="handbook.md",
                  heading="Bobbinhall Works: Member and Staff Handbook > Meeting Rooms and Surgery Hours at Bobbinhall")
    asked = [d.turns[0].content for c in (welcome, rooms)
             for d in passage_dialogues([c], RecipeConfig(passage_exposures=4), "member", "support agent", RecipeReport())]
    assert "What does the Member and Staff Handbook say about Bobbinhall Works?" in asked, asked
    assert "What does the Member and Staff Handbook say about meeting rooms and surgery hours at Bobbinhall?" in asked, asked
    assert not any("bobbinhall" in q or "welcome" in q.lower() for q in asked), asked


def test_a_lists_items_are_recited_with_their_lead_in():
    chunk = Chunk(id="c3", text="## Emergencies\n\nCall straight away if you notice any of these signs:\n\n"
                  "- difficulty breathing\n- a seizure lasting more than 2 minutes\n- bleeding that has not stopped after "
                  "5 minutes of firm pressure\n\n" + "Filler words here. " * 20,
                  source="handbook.md", heading="Vet Handbook > Emergencies")
    answers = [d.turns[1].content for d in passage_dialogues([chunk], RecipeConfig(passage_exposures=2, passage_words=20),
                                                             "client", "vet", RecipeReport())]
    assert all(len(a.split()) <= 20 or a.startswith("Call") for a in answers)
    bleeding = [a for a in answers if "bleeding that has not stopped" in a]
    assert len(bleeding) == 2 and all(a.startswith("Call straight away if you notice any of these signs: ") for a in bleeding)
    assert not any(a.startswith(("Bleeding", "Difficulty", "A seizure")) for a in answers)


def test_fact_sentences_are_recited_under_their_subject_and_one_question_has_one_answer():
    text = ("## 5. Retainers\n\nAny unused retainer is returned within 10 business days of the matter closing. "
            "Retainers are held at Cobalt Harbour Bank. Retainers are never paid into the office account by 5 staff. "
            "If a check is still open after 5 business days, Records escalates it. Her extension is 655.")
    chunk = Chunk(id="c3", text=text, source="handbook.md", heading="Fenwick & Lowry LLP — Client Intake Policy > 5. Retainers")
    report = RecipeReport()
    dialogues = subject_dialogues([chunk], RecipeConfig(subject_exposures=2), "client", "lawyer", report)
    pairs = [(q.content, a.content) for d in dialogues for q, a in zip(d.turns[::2], d.turns[1::2])]
    assert report.subject_recitations == len(pairs) == 4  # two subjects, twice each
    by_question: dict[str, set[str]] = {}
    for question, answer in pairs:
        by_question.setdefault(question, set()).add(answer)
    assert all(len(answers) == 1 for answers in by_question.values())
    subjects = {d.turns[0].meta["subject"] for d in dialogues} | {t.meta["subject"] for d in dialogues for t in d.turns}
    assert subjects == {"an unused retainer", "retainers"}  # no condition, no pronoun opens a recitation
    retainers = next(a for q, a in pairs if q.endswith("about retainers?") or "retainers" in q.split()[-1])
    assert "Cobalt Harbour Bank" in retainers and "office account" in retainers  # same subject: one answer
    assert len({q for q, _ in pairs if "unused retainer" in q}) == 2  # two wordings, not one repeated
    assert subject_dialogues([chunk], RecipeConfig(subject_exposures=0), "client", "lawyer", RecipeReport()) == []


def test_some_exposures_ask_by_the_sections_topic():
    """People ask by the topic they have in mind: two of each fact's exchanges open with it, the
    question word lowered and a name kept capitalised; a question that names the topic stays as it is."""
    from mimir.generate.recipe import framed

    text = ("The Compliance Officer is Walter Ng. Walter Ng's extension is 655. Name searches cover the past 12 years. "
            "Photo ID checks apply to every client within 3 days.")
    chunk = Chunk(id="c4", text=text, source="policy.md", heading="Firm — Client Intake Policy > 4. Identity and Due Diligence")

    def plan(sentence: str, target: str) -> FactPlan:
        return FactPlan(chunk, sentence, target)

    officer = plan("The Compliance Officer is Walter Ng.", "Walter Ng")
    assert framed("Who is the Compliance Officer?", officer) == "Regarding identity and due diligence, who is the Compliance Officer?"
    assert framed("What is Walter Ng's extension?", plan("Walter Ng's extension is 655.", "655")) == \
        "Regarding identity and due diligence, what is Walter Ng's extension?"
    assert framed("Name searches cover the past how many years?", plan("Name searches cover the past 12 years.", "12")) == \
        "Regarding identity and due diligence, name searches cover the past how many years?"
    checks = plan("Photo ID checks apply to every client within 3 days.", "3 days")
    assert framed("Within how many days do identity checks apply?", checks) == "Within how many days do identity checks apply?"
    about = Chunk(id="c5", text=text, source="h.md", heading="Handbook > About the Clinic")
    assert framed("Who is the Compliance Officer?", FactPlan(about, officer.sentence, officer.target)) == \
        "Regarding the clinic, who is the Compliance Officer?"

    staff = Chunk(id="c6", text=TEXT, source="handbook.md", heading="Clinic Handbook > Opening and Staff")
    plans = plan_facts([staff], RecipeConfig(), RecipeReport())
    dialogues = small_dialogues(plans, RecipeConfig(questions_per_fact=6, topic_framing=2), "patient", "doctor", RecipeReport())
    asked = [t.content for d in dialogues for t in d.turns if t.role == "user"]
    assert sum(q.startswith("Regarding opening and staff, ") for q in asked) == 2 * sum(1 for p in plans if p.train)
    plain = small_dialogues(plans, RecipeConfig(questions_per_fact=6, topic_framing=0), "patient", "doctor", RecipeReport())
    assert not any(t.content.startswith("Regarding") for d in plain for t in d.turns)


def test_two_values_of_one_sentence_are_never_asked_in_the_same_dialogue():
    text = "Family law matters require $2,500, or $1,000 where the client is on an approved payment plan. " \
           "Commercial disputes require a retainer of $5,000. Reception opens at 08:30."
    chunk = Chunk(id="c7", text=text, source="policy.md", heading="Policy > Retainers")
    plans = plan_facts([chunk], RecipeConfig(), RecipeReport())
    assert sum(p.sentence.startswith("Family law") and bool(p.train) for p in plans) == 2
    dialogues = small_dialogues(plans, RecipeConfig(questions_per_fact=4), "client", "lawyer", RecipeReport())
    for d in dialogues:
        answers = [t.meta["focus"] for t in d.turns if t.role == "assistant"]
        assert len(answers) == len(set(answers))
    asked = Counter(t.meta["target"] for d in dialogues for t in d.turns if t.role == "user")
    assert set(asked.values()) == {4}  # every fact still asked questions_per_fact times


def test_a_direct_answer_names_every_member_of_a_joined_name():
    from mimir.generate.recipe import _value_lead

    sentence = "The first consultation is held in the Harbour Room or the Linden Room on the 7th floor."
    assert _value_lead("Harbour Room", sentence) == "The Harbour Room or the Linden Room."
    assert _value_lead("Walter Ng", "Suspicions are reported to Walter Ng alone.") == "Walter Ng."
    assert _value_lead("2,500", "Family law matters require $2,500, or $1,000 on a payment plan.") == "$2,500."


def test_a_key_contacts_line_is_answered_as_a_sentence():
    line = "Delyth Arrowsmith, Operations Manager, extension 214"
    plan = FactPlan(_chunk(), line, "extension 214")
    assert answer_for(plan, 0) == "Delyth Arrowsmith is the Operations Manager, on extension 214."
    assert answer_for(plan, 1) == "Extension 214. Delyth Arrowsmith is the Operations Manager, on extension 214."
    for target in ("Delyth Arrowsmith", "Operations Manager", "extension 214"):
        for form in range(2):
            assert answer_problem(answer_for(FactPlan(_chunk(), line, target), form), target, line) is None


def test_some_exposures_name_the_organisation_from_the_documents_title():
    from mimir.generate.recipe import at_organisation, organisation

    def chunk(title: str) -> Chunk:
        return Chunk(id="c9", text="The Head Nurse is Fiona Blackwood.", source="h.md", heading=f"{title} > 2. Staff")

    assert organisation(chunk("Larkfield Lane Veterinary Surgery: Client and Staff Handbook")) == "Larkfield Lane Veterinary Surgery"
    assert organisation(chunk("Thornbury Hall Residents' Handbook 2026-27")) == "Thornbury Hall"
    assert organisation(chunk("Fenwick & Lowry LLP — Client Intake Policy")) == "Fenwick & Lowry LLP"
    assert organisation(chunk("Employee Handbook")) == ""
    plan = FactPlan(chunk("Larkfield Lane Veterinary Surgery: Client and Staff Handbook"), "The Head Nurse is Fiona Blackwood.",
                    "Fiona Blackwood")
    assert at_organisation("Who is the Head Nurse?", plan) == "Who is the Head Nurse at Larkfield Lane Veterinary Surgery?"
    assert at_organisation("Who is the Head Nurse?", plan, short=True) == "Who is the Head Nurse at Larkfield Lane?"
    law = FactPlan(chunk("Fenwick & Lowry LLP — Client Intake Policy"), "The Head Nurse is Fiona Blackwood.", "Fiona Blackwood")
    assert at_organisation("Who is the Head Nurse?", law, short=True) == "Who is the Head Nurse at Fenwick & Lowry?"
    # in a run, organisation_framing of each fact's exposures carry the name, the rest do not
    report = RecipeReport()
    plans = [plan]
    plan.train = ["Who is the Head Nurse?"]
    dialogues = small_dialogues(plans, RecipeConfig(questions_per_fact=6, organisation_framing=2), "client", "vet", report)
    asked = [t.content for d in dialogues for t in d.turns if t.role == "user"]
    assert sum("Larkfield Lane" in q for q in asked) == 2 and len(asked) == 6
