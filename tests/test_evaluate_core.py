"""Evaluation core: normalisation, judges (both orders), stats, human records, eval sets, leakage."""

from __future__ import annotations

import json

import pytest

from mimir.errors import InputFileError
from mimir.evaluate.answering import answer_questions
from mimir.evaluate.evalsets import EvalQuestion, drop_leaking_records, find_leaks, load_questions
from mimir.evaluate.judges.base import make_judge
from mimir.evaluate.judges.human import make_tasks, record_choice
from mimir.evaluate.judges.llm import combine, parse_verdict
from mimir.facts.match import contains_fact
from mimir.evaluate.judges.reference import fact_recall
from mimir.evaluate.records import Answer, Judgement
from mimir.evaluate.stats import summarize
from mimir.models.base import Reply
from mimir.models.scripted import ScriptedModel

QUESTIONS = [
    EvalQuestion(id=f"q{i}", question=f"What is fact number {i}?", answer=f"Fact {i} is {i * 7} mg.", key_facts=[f"{i * 7} mg"])
    for i in range(1, 21)
]


def _answers(side: str, texts: list[str]) -> list[Answer]:
    return [Answer(question_id=q.id, side=side, model=side, text=t) for q, t in zip(QUESTIONS, texts)]


@pytest.mark.parametrize(
    "answer, fact, expected",
    [
        ("Take seven days of rest.", "7 days", True),
        ("a 7-day course", "7 days", True),
        ("within 17 days", "7 days", False),
        ("Open 8:00 to 13:00 on Saturday", "08:00 to 13:00", True),
        ("It costs 1,500 dollars", "1500 dollars", True),
        ("twenty-four hours later", "24 hours", True),
        ("DR AMARA OKAFOR leads it", "Dr. Amara Okafor", True),
        ("Dr. Amara Okonkwo leads it", "Dr. Amara Okafor", False),
        ("about 20 percent", "20%", True),
        ("", "20%", False),
    ],
)
def test_key_fact_matching_normalises_case_punctuation_and_numbers(answer, fact, expected):
    assert contains_fact(answer, fact) is expected


def test_fact_recall_counts_each_fact():
    assert fact_recall("Lena Vasquez runs it, ext 2230", ["2230", "Lena Vasquez"]) == 1.0
    assert fact_recall("Ask at ext 2230", ["2230", "Lena Vasquez"]) == 0.5


def test_reference_judge_identical_models_tie_and_better_answer_wins():
    judge = make_judge("reference")
    texts = [f"It is {q.key_facts[0]}." for q in QUESTIONS]
    same = judge.judge(QUESTIONS, _answers("a", texts), _answers("b", texts))
    assert all(j.winner == "tie" for j in same)
    vague = ["I am not sure." for _ in QUESTIONS]
    better = judge.judge(QUESTIONS, _answers("a", texts), _answers("b", vague))
    assert [j.winner for j in better] == ["a"] * len(QUESTIONS)
    assert better[0].score_a == 1.0 and better[0].score_b == 0.0


def test_position_biased_llm_judge_yields_ties_after_the_swap():
    judge_model = ScriptedModel(default="Verdict: 1")  # always prefers whatever is shown first
    judge = make_judge("llm", model=judge_model)
    texts = [f"It is {q.key_facts[0]}." for q in QUESTIONS]
    judgements = judge.judge(QUESTIONS, _answers("a", texts), _answers("b", texts))
    summary = summarize(judgements)
    assert summary["ties"] / summary["n"] >= 0.95
    assert summary["position_flip_rate"] == 1.0
    assert len(judge_model.calls) == 2 * len(QUESTIONS)  # both orders, one batch
    # Order 2 really shows B's answer first.
    first_a = judge_model.calls[0][0][-1]["content"]
    first_b = judge_model.calls[len(QUESTIONS)][0][-1]["content"]
    assert first_a.index("[Answer 1]") < first_a.index("It is 7 mg")
    assert first_a == first_b  # identical answers: identical prompts


def test_consistent_llm_judge_prefers_the_grounded_answer():
    def prefer_specific(conversation):
        text = conversation[-1]["content"]
        one = text.split("[Answer 1]")[1].split("[End of answer 1]")[0]
        return "Verdict: 1" if "mg" in one else "Verdict: 2"

    judge = make_judge("llm", model=ScriptedModel(default=prefer_specific))
    good = [f"It is {q.key_facts[0]}." for q in QUESTIONS]
    bad = ["No idea." for _ in QUESTIONS]
    summary = summarize(judge.judge(QUESTIONS, _answers("a", good), _answers("b", bad)), n_boot=200)
    assert summary["wins"] == len(QUESTIONS) and summary["position_flip_rate"] == 0.0
    assert summary["win_or_equal"] == 1.0


def test_verdict_parsing_and_combination():
    assert parse_verdict("Verdict: 2") == "2"
    assert parse_verdict("**Verdict:** tie") == "tie"
    assert parse_verdict("The answers are nice.") is None
    assert parse_verdict("The answer 2 is better.") == "2"
    assert parse_verdict("The answer 1 is better, and the answer 2 is better.") is None
    assert combine("1", "2") == ("a", False, True)  # A first wins, B first loses: A wins
    assert combine("2", "1") == ("b", False, True)
    assert combine("1", "1") == ("tie", True, True)  # position bias
    assert combine("1", "tie") == ("tie", False, True)
    assert combine(None, "1") == ("tie", False, False)


def test_unparseable_judge_replies_are_invalid_and_excluded():
    judge = make_judge("llm", model=ScriptedModel(default="I like both."))
    texts = ["x"] * len(QUESTIONS)
    summary = summarize(judge.judge(QUESTIONS, _answers("a", texts), _answers("b", texts)))
    assert summary["n"] == 0 and summary["invalid"] == len(QUESTIONS) and summary["win_or_equal"] is None


def test_stats_counts_rates_ci_and_lengths():
    winners = ["a"] * 12 + ["tie"] * 4 + ["b"] * 4
    judgements = [Judgement(question_id=f"q{i}", judge="reference", winner=w) for i, w in enumerate(winners)]
    s = summarize(judgements, _answers("a", ["one two three"] * 20), _answers("b", ["one"] * 20), n_boot=500, seed=1)
    assert (s["wins"], s["ties"], s["losses"]) == (12, 4, 4)
    assert s["win_or_equal"] == 0.8 and s["win_rate"] == 0.7
    lo, hi = s["win_or_equal_ci"]
    assert lo < 0.8 < hi and 0.5 < lo and hi <= 1.0
    assert s["mean_length_a"] == 3.0 and s["mean_length_b"] == 1.0
    assert summarize(judgements, n_boot=500, seed=1)["win_or_equal_ci"] == s["win_or_equal_ci"]  # seeded
    with pytest.raises(ValueError):
        summarize(judgements + [Judgement(question_id="x", judge="llm", winner="a")])


def test_recall_mean_has_a_bootstrap_interval():
    from mimir.evaluate.stats import mean_with_ci

    mean, (lo, hi) = mean_with_ci([1.0] * 18 + [0.5] * 2 + [0.0] * 24, n_boot=500)
    assert mean == pytest.approx(19 / 44) and lo < mean < hi and 0.2 < lo and hi < 0.65
    assert mean_with_ci([1.0] * 5, n_boot=100) == (1.0, [1.0, 1.0])
    with pytest.raises(ValueError):
        mean_with_ci([])


def test_human_tasks_hide_and_shuffle_sides_and_map_back():
    a = _answers("a", [f"A{i}" for i in range(20)])
    b = _answers("b", [f"B{i}" for i in range(20)])
    tasks = make_tasks(QUESTIONS, a, b, seed=3)
    assert {t.left_is_a for t in tasks} == {True, False}
    assert [t.question_id for t in tasks] != [q.id for q in QUESTIONS]
    for t in tasks:
        choice = "left" if t.left.startswith("A") else "right"  # a person who always picks A's answer
        assert record_choice(t, choice).winner == "a"
    assert record_choice(tasks[0], "tie").winner == "tie"
    with pytest.raises(ValueError):
        record_choice(tasks[0], "up")


def test_load_questions_from_file_and_errors(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text('{"id": "x1", "question": "Who?", "answer": "Bo.", "key_facts": ["Bo"]}\n\n'
                    '{"question": "When?", "key_facts": "noon"}\n')
    qs = load_questions(path)
    assert [q.id for q in qs][0] == "x1" and qs[1].key_facts == ["noon"] and qs[1].id.startswith("q_")
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x1", "question": ""}\n')
    with pytest.raises(InputFileError, match="bad.jsonl:1"):
        load_questions(bad)
    dup = tmp_path / "dup.json"
    dup.write_text(json.dumps([{"id": "a", "question": "x?"}, {"id": "a", "question": "y?"}]))
    with pytest.raises(InputFileError, match="twice"):
        load_questions(dup)


def test_example_questions_carry_key_facts():
    from mimir.resources import asset

    path = asset("examples/questions.jsonl")
    qs = load_questions(path)
    assert len(qs) >= 20 and all(q.key_facts for q in qs)
    knowledge = "\n".join(p.read_text() for p in path.parent.iterdir() if p.suffix in (".md", ".csv", ".txt"))
    for q in qs:  # every key fact is stated by the knowledge (so a tuned model can learn it)
        assert fact_recall(knowledge, q.key_facts) == 1.0, q.id


def test_leak_check_finds_question_text_in_training_data(tmp_path):
    texts = ["User: what is FACT number 3? Assistant: 21 mg.", "unrelated"]
    assert find_leaks(QUESTIONS, texts) == {"q3": 1}
    src, dst = tmp_path / "train.jsonl", tmp_path / "clean.jsonl"
    src.write_text("".join(json.dumps({"messages": [{"role": "user", "content": t}]}) + "\n" for t in texts))
    assert drop_leaking_records(QUESTIONS, src, dst) == (1, 1)
    assert "unrelated" in dst.read_text() and "number 3" not in dst.read_text()


def test_leak_check_reads_tool_call_arguments():
    """A retriever query is often the asker's question word for word: it leaks the check question too."""
    from mimir.evaluate.evalsets import record_text

    call = {"id": "c1", "type": "function", "function": {"name": "knowledge_retriever",
                                                         "arguments": json.dumps({"query": "What is FACT number 3?"})}}
    record = {"messages": [{"role": "user", "content": "Tell me something."},
                           {"role": "assistant", "content": "", "tool_calls": [call]}]}
    assert find_leaks(QUESTIONS, [record_text(record)]) == {"q3": 1}


def test_answering_is_closed_book_batched_and_resumable(tmp_path):
    model = ScriptedModel(default=lambda conv: Reply(text=f"ans to {conv[-1]['content']}", completion_tokens=4))
    cache = tmp_path / "answers.jsonl"
    first = answer_questions(model, QUESTIONS[:5], side="a", cache=cache)
    assert [a.text for a in first][0] == "ans to What is fact number 1?"
    assert all(len(conv) == 2 and conv[0]["role"] == "system" for conv, _ in model.calls)
    more = answer_questions(model, QUESTIONS[:8], side="a", cache=cache)
    assert len(model.calls) == 8 and [a.question_id for a in more] == [q.id for q in QUESTIONS[:8]]


def test_dataset_questions_from_local_files_and_saved_datasets(tmp_path):
    import datasets

    from mimir.evaluate.evalsets import load_dataset_questions

    rows = [{"prompt": f"Question {i}?", "reference": f"Answer {i}.", "facts": [f"{i} mg"]} for i in range(5)]
    fields = {"question": "prompt", "answer": "reference", "key_facts": "facts"}
    path = tmp_path / "eval.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    qs = load_dataset_questions(str(path), fields=fields, limit=3)
    assert [q.question for q in qs] == ["Question 0?", "Question 1?", "Question 2?"] and qs[2].key_facts == ["2 mg"]
    saved = tmp_path / "saved"
    datasets.DatasetDict({"test": datasets.Dataset.from_list(rows)}).save_to_disk(str(saved))
    assert len(load_dataset_questions(str(saved), split="test", fields=fields)) == 5
    with pytest.raises(InputFileError, match="no column 'question'"):
        load_dataset_questions(str(path))


@pytest.mark.slow
def test_embedded_model_against_itself_ties_for_both_judges(embedded_model):
    questions = QUESTIONS[:3]
    answers = answer_questions(embedded_model, questions, side="a", max_new_tokens=12)
    assert all(a.text and a.completion_tokens > 0 for a in answers)
    same = [Answer(question_id=a.question_id, side="b", model=a.model, text=a.text) for a in answers]
    for judge in (make_judge("reference"), make_judge("llm", model=embedded_model, max_new_tokens=8)):
        judgements = judge.judge(questions, answers, same)
        valid = [j for j in judgements if j.valid]
        assert all(j.winner == "tie" for j in valid), judge.name  # identical answers: never a win
