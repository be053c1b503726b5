"""The data recipe: knowledge in, verified closed-book training data out — one path for the app,
the CLI (``python -m mimir tune``) and the experiment.

plan (every askable fact of every chunk) -> questions (rule-built forms and the asker model's own
wording, each passing :func:`mimir.generate.questions.question_problem`) -> dialogues -> grounding
(an expert answer must state the value its question asks for) -> held-out check questions (never
trained) -> training records (leak-checked) + replay of the base model's own general answers.

Two presets, chosen from the generator (:func:`choose_preset`):

- ``small`` (the embedded model or any local model up to ~1B parameters): the model words
  questions under a checked few-shot form; the expert's answers are extractive (the source clause,
  value first). Measured on the bundled handbook, a 135M expert's own answers were replaced by
  grounding in ~99% of turns (1.4% of answer words were its own) at ~15 min of CPU time, so the
  small preset does not generate them.
- ``roleplay`` (an endpoint or a larger local model): the full multi-role engine
  (:func:`mimir.generate.pipeline.generate_dialogues`) with frameworks and tools, then the same
  grounding and verification.
"""

from __future__ import annotations

import logging
import random
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, Literal

from mimir.config import option
from mimir.facts.text import contains_fact, fact_sentences, fact_strings, sentences, subject_phrase, table_header, wh_phrase
from mimir.generate.contacts import contact_line
from mimir.generate.questions import asks_for, line_questions, listed_after, question_problem, questions_for, record_targets
from mimir.types import REPLAY_SOURCE, Chunk, Dialogue, Scenario, Turn, stable_id

log = logging.getLogger(__name__)
Preset = Literal["auto", "small", "roleplay"]
SMALL_MODEL_MAX_PARAMS = 1.2e9


@dataclass
class RecipeConfig:
    """How the knowledge becomes training data (``tune`` and the app's guided run use the defaults)."""

    preset: Preset = option("auto", help="small (<= ~1B local generator: checked questions, extractive answers), "
                            "roleplay (strong generator: full multi-role engine), or auto (chosen from the model spec).")
    questions_per_fact: int = option(6, help="Training exchanges per fact (each in another question form / dialogue).")
    facts_per_dialogue: int = option(3, help="Exchanges (question -> answer) per training dialogue.")
    model_questions: bool = option(
        False, help="Let the generator word two more questions per fact (prefilled openings, checked like the rule-built "
        "ones). Off for the embedded model: of the 135M model's questions that passed every check, about half still "
        "asked something the sentence does not answer (read on the bundled handbook).")
    passage_exposures: int = option(
        2, help="Times each passage of the knowledge is recited as the answer to a question about its topic ('What does the "
        "policy say about conflict checks?'): the facts in the document's own words, so a question worded unlike every "
        "rule-built form still finds them (0 turns recitation off).")
    subject_exposures: int = option(
        0, help="Times each fact sentence is recited as the answer to a question about what it opens with ('What does the "
        "policy say about an unused retainer?'). Off by default: on the law-intake dev handbook 2 exposures cost 20% more "
        "training time and moved held-out recall from 0.31/0.33 to 0.29/0.29 (within noise).")
    topic_framing: int = option(
        0, help="Of each fact's questions_per_fact exchanges, how many open with its section's topic ('Regarding conflict "
        "checks, how quickly must the Records team report back?') when the question does not name it already. Off by "
        "default: 2 framed exchanges left law-intake dev recall where it was (0.44 / 0.38 vs 0.44 / 0.42).")
    organisation_framing: int = option(
        2, min=0, help="Of each fact's questions_per_fact exchanges, how many name the organisation the documents are "
        "about, as people asking about one place do ('Who is the Head Nurse at Larkfield Lane?'); the name comes from the "
        "document's title ('Larkfield Lane Veterinary Surgery: Client and Staff Handbook'), in full or by its first two words.")
    passage_words: int = option(70, min=20, help="Most words per recited passage (keeps each record within the training length).")
    holdout_per_fact: int = option(1, help="Question forms per fact kept out of training for the knowledge check (when a fact has 2+).")
    system_prompt_share: float = option(0.5, help="Share of training dialogues that carry the expert's system prompt "
                                        "(the rest have none, so the adapter answers in any chat).")
    replay_share: float = option(0.25, help="General prompts answered by the base model itself, as a share of the "
                                 "training records (keeps general behaviour; 0 turns replay off).")
    agent_trajectories: bool = option(
        True, help="Dialogues whose expert called a tool are also trained as the agent's trajectory (reasoning, tool call, "
        "observation, answer), beside their closed-book copy (role-play preset; the small preset makes no tool calls).")
    value_first: bool = option(
        True, help="Every other extractive answer opens with the value itself ('72 hours. Repeat prescriptions must be "
        "requested ...'); off: every answer is the source clause, so the value comes after the subject the question names.")
    max_facts: int = option(0, help="Cap on askable facts (0: all); a small cap makes quick trial runs.")
    seed: int = option(0, help="Seed of question order and dialogue grouping.")


@dataclass
class FactPlan:
    """One askable fact: its sentence, the value, its training and held-out questions."""

    chunk: Chunk
    sentence: str
    target: str
    train: list[str] = field(default_factory=list)
    held_out: list[str] = field(default_factory=list)


@dataclass
class RecipeReport:
    """What the recipe did, in counts a user can read."""

    preset: str = ""
    preset_reason: str = ""
    facts: int = 0
    facts_with_questions: int = 0
    questions: Counter = field(default_factory=Counter)  # form -> count kept
    rejected: Counter = field(default_factory=Counter)  # reason -> count
    answers: Counter = field(default_factory=Counter)  # kept / restated / dropped
    dialogues: int = 0
    records: int = 0
    replay_records: int = 0
    passages: int = 0
    subject_recitations: int = 0
    dropped_leaks: int = 0
    trajectories: int = 0
    verification: dict = field(default_factory=dict)  # keep / fix / reject counts of the verification stage

    def to_dict(self) -> dict[str, Any]:
        return {k: (dict(v) if isinstance(v, Counter) else v) for k, v in self.__dict__.items()}


def choose_preset(model_spec: str, preset: Preset = "auto") -> tuple[str, str]:
    """(preset, why): small for local models up to ~1B parameters, roleplay otherwise."""
    if preset != "auto":
        return preset, f"set in the config ({preset})"
    spec = model_spec.split("?", 1)[0]
    if spec.startswith(("endpoint", "hf-inference", "openai")):
        return "roleplay", f"{spec!r} is an endpoint: a strong model words every turn"
    if spec in ("local", "embedded", "", "llamacpp") or spec.startswith("local@"):
        return "small", "the embedded SmolLM2-135M generator is too small to word grounded answers"
    params = _param_count(spec.partition(":")[2].split("@")[0])
    if params is None:
        return "small", f"cannot size {spec!r} offline; the small preset is the safe choice"
    if params <= SMALL_MODEL_MAX_PARAMS:
        return "small", f"{spec!r} has ~{params / 1e6:.0f}M parameters (<= {SMALL_MODEL_MAX_PARAMS / 1e9:.1f}B)"
    return "roleplay", f"{spec!r} has ~{params / 1e9:.1f}B parameters"


def _param_count(name: str) -> float | None:
    match = re.search(r"(\d+(?:\.\d+)?)\s*([MB])\b", name, re.I)
    if match:
        return float(match.group(1)) * (1e6 if match.group(2).upper() == "M" else 1e9)
    config = Path(name) / "config.json"
    if config.is_file():
        import json

        c = json.loads(config.read_text(encoding="utf-8"))
        h, layers, vocab = c.get("hidden_size"), c.get("num_hidden_layers"), c.get("vocab_size", 0)
        if h and layers:
            return 12 * layers * h * h + vocab * h
    return None


# -- questions ---------------------------------------------------------------------------------
def plan_facts(chunks: list[Chunk], config: RecipeConfig, report: RecipeReport) -> list[FactPlan]:
    """Every askable fact of the chunks once (overlapping chunks repeat sentences), with its rule-built questions."""
    seen: set[tuple[str, str]] = set()
    plans: list[FactPlan] = []
    for chunk, text, header in _with_table_headers(chunks):
        for sentence in fact_sentences(text, header):
            found = []
            contact = contact_line(sentence)
            targets = contact.targets() if contact else record_targets(sentence)[:6] or fact_strings(sentence)[:6]
            for target in targets:
                if (sentence, target) in seen:
                    continue
                seen.add((sentence, target))
                found.append(FactPlan(chunk, sentence, target, train=[q.text for q in questions_for(sentence, target)]))
            if found and not any(p.train for p in found) and (line := line_questions(sentence)):
                # a labelled list line ("Halvorin (...): 250 mg every 8 hours, ...") whose values have no
                # question of their own is asked about as a whole; the answer is the line
                value = sentence.split(":", 1)[1].strip().rstrip(".")
                found = [FactPlan(chunk, sentence, value, train=line)]
                report.questions["whole_line"] += 1
            plans.extend(found)
    _drop_ambiguous(plans, report)
    if 0 < config.max_facts < len(plans):
        # a capped (trial) run keeps the facts that have the most question forms, in document
        # order, so it still has held-out check questions and training questions
        ranked = sorted(range(len(plans)), key=lambda i: (-min(len(plans[i].train), 2), i))[: config.max_facts]
        plans = [plans[i] for i in sorted(ranked)]
    report.facts = len(plans)
    return plans


def _with_table_headers(chunks: list[Chunk]) -> Iterator[tuple[Chunk, str, list[str] | None]]:
    """(chunk, its text, the header of the table it may start inside of): a chunk cut mid-table
    keeps its rows' column names from the last header seen earlier in the same document."""
    headers: dict[str, list[str] | None] = {}
    for chunk in chunks:
        text = chunk.answer if chunk.kind == "qa" and chunk.answer else chunk.text
        header = headers.get(chunk.source)
        headers[chunk.source] = table_header(text) or header
        yield chunk, text, header


def _drop_ambiguous(plans: list[FactPlan], report: RecipeReport) -> None:
    """A question asked of two facts with different values ("Who is the runbook owner?" for four
    services) would teach one of them wrong: it is dropped from every fact, and counted."""
    answers: dict[str, set[str]] = {}
    for plan in plans:
        for question in plan.train:
            answers.setdefault(question.lower(), set()).add(plan.target.lower())
    for plan in plans:
        kept = [q for q in plan.train if len(answers[q.lower()]) == 1]
        if len(kept) < len(plan.train):
            report.rejected["ambiguous"] += len(plan.train) - len(kept)
        plan.train = kept


# Openings that constrain the asker model's question to the kind of value it must ask for: the
# reply is prefilled with one of them and the model only completes it (two openings -> two forms).
OPENINGS: dict[str, tuple[str, ...]] = {
    "time": ("What time", "When"),
    "date": ("When", "On what date"),
    "duration": ("How long", "Within how many"),
    "amount": ("How many", "How much"),
    "person": ("Who", "Who is the"),
    "place": ("Which room", "Where"),
    "number": ("What is the", "Which number"),
    "thing": ("What is the", "Which"),
}


def openings(target: str) -> tuple[str, ...]:
    from mimir.generate.questions import expected_kind

    kind = expected_kind(target)
    if kind == "amount" and re.search(r"[$€£]|\b(fee|price|cost)\b", target):
        return ("How much", "What is the")
    return OPENINGS[kind]


def add_model_questions(plans: list[FactPlan], model: Any, report: RecipeReport, batch: int = 32) -> None:
    """Questions worded by ``model`` (few-shot form, reply opened with a question phrase of the
    right kind: "How long" for a duration, "Who" for a person); kept only when they pass the
    question check and ask for the kind of value the fact is."""
    from mimir.models.base import GenerationSettings
    from mimir.prompts import load_prompts

    prompts = load_prompts("generate")
    system = str(prompts["question_writer_system"])
    user = str(prompts["question_writer_user"])
    shots: list[dict[str, str]] = []
    for sentence, value, question in prompts["question_writer_shots"]:
        shots += [{"role": "user", "content": user.format(sentence=sentence, value=value)}, {"role": "assistant", "content": question}]
    settings = GenerationSettings(max_new_tokens=32, temperature=0.0, stop=["?"])
    requests = [(plan, opening) for plan in plans for opening in openings(plan.target)]
    for start in range(0, len(requests), batch):
        part = requests[start:start + batch]
        conversations = [[{"role": "system", "content": system}, *shots,
                          {"role": "user", "content": user.format(sentence=p.sentence, value=p.target)},
                          {"role": "assistant", "content": opening, "prefill": True}] for p, opening in part]
        for (plan, opening), reply in zip(part, model.generate(conversations, settings)):
            text = _opened(opening, reply.text) + ("?" if reply.finish_reason != "length" else "")
            problem = question_problem(text, plan.sentence, plan.target) or (None if asks_for(text, plan.target, plan.sentence) else "asks_for_other_kind")
            if problem:
                report.rejected[f"model:{problem}"] += 1
            elif text not in plan.train:
                plan.train.append(text)
                report.questions["model"] += 1


def _opened(opening: str, continuation: str) -> str:
    """The prefilled opening joined with what the model wrote after it, cut at the first '?'."""
    text = continuation.strip().splitlines()[0] if continuation.strip() else ""
    if text.lower().startswith(opening.lower()):  # backends that echo the prefill
        text = text[len(opening):]
    text = (opening + (" " if text and text[0].isalnum() else "") + text).strip()
    return text[: text.find("?")] if "?" in text else text.rstrip(" .")


def split_held_out(plans: list[FactPlan], config: RecipeConfig, report: RecipeReport) -> None:
    """Keep the last question form(s) of facts with several forms out of training."""
    for plan in plans:
        if config.holdout_per_fact and len(plan.train) > config.holdout_per_fact:
            plan.held_out = plan.train[-config.holdout_per_fact:] if config.holdout_per_fact else []
            plan.train = plan.train[: len(plan.train) - len(plan.held_out)]
    report.facts_with_questions = sum(1 for p in plans if p.train)
    report.questions["train_forms"] = sum(len(p.train) for p in plans)
    report.questions["held_out"] = sum(len(p.held_out) for p in plans)


# -- answers -----------------------------------------------------------------------------------
def answer_for(plan: FactPlan, form: int, value_first: bool = True) -> str:
    """An extractive expert answer that states ``plan.target`` first: the clause that holds it,
    or the value then its clause. Never another value of the sentence alone."""
    from mimir.generate.questions import clause_of

    record = _record_answer(plan.sentence, plan.target)
    if record:
        return record
    contact = contact_line(plan.sentence)
    if contact:  # a list line answered as a sentence: "Extension 214. Delyth Arrowsmith is the Operations Manager, on ..."
        return [contact.sentence(), f"{_value_lead(plan.target, plan.sentence)} {contact.sentence()}"][form % 2 if value_first else 0]
    sentence = _sentence(plan.sentence)
    if ":" in plan.sentence and plan.sentence.split(":", 1)[1].strip().rstrip(".") == plan.target:
        return sentence  # a whole labelled line ("Code Heron: medical emergency ..."): the line is the answer
    clause = _sentence(clause_of(plan.sentence, plan.target))
    # the clause only, not the whole sentence: fewer tokens per exposure, and no neighbouring
    # values for the model to blend into the one that was asked for
    forms = [clause, f"{_value_lead(plan.target, plan.sentence)} {clause}"][: 2 if value_first else 1]
    text = forms[form % len(forms)]
    return text if text.count(plan.target) else f"{_value_lead(plan.target, plan.sentence)} {sentence}"


def _record_answer(sentence: str, target: str) -> str | None:
    """A table row "Severity: SEV1; ...; Acknowledge within: 5 minutes" answered as a sentence that
    names its row and column: "For severity SEV1, acknowledge within 5 minutes."."""
    from mimir.generate.questions import a_or_an, column_kind, priced_column, record_field, record_key, record_row

    found = record_field(sentence, target)
    if not found:
        return None
    keys, values, hit = found
    row, key, value = record_row(keys, values), record_key(keys[hit]), values[hit]
    kind = column_kind(key)
    if kind == "every":
        return _sentence(f"For {row}, the {key.rsplit(' ', 1)[0]} is {'every ' if value[:1].isdigit() else ''}{value}")
    if kind == "preposition":
        return _sentence(f"For {row}, {key} {value}")
    if kind == "question":  # "Who may issue": "For storage class Oxidisers, who may issue them: technicians or teachers."
        return _sentence(f"For {row}, {key[0].lower() + key[1:]} them: {value}")
    if priced_column(key, value):  # "For service Standard consultation, the price for a cat is £44.00."
        return _sentence(f"For {row}, the price for {a_or_an(key.lower())} is {value}")
    return _sentence(f"For {row}, the {key} is {value}")


def _value_lead(target: str, sentence: str = "") -> str:
    """The value as a one-line answer, as the sentence writes it: "$2,500." (the currency sign kept),
    "The Intake Coordinator." (a role keeps its article)."""
    at = sentence.find(target)
    before = sentence[:at] if at >= 0 else ""
    # a name joined to another ("the Harbour Room or the Linden Room"): the lead names both, not one
    joined = re.match(r"\s+(or|and)\s+((?:the\s+)?[A-Z][\w-]*(?:\s+[A-Z][\w-]*)*)", sentence[at + len(target):]) if at >= 0 else None
    days = listed_after(sentence, target) if wh_phrase(target) == "which day" else ""
    if days:  # "Tuesdays, Wednesdays and Fridays": the question asked for all of them
        return _sentence(target + days)
    if before.endswith(("$", "€", "£")):
        target = before[-1] + target
    elif re.search(r"\b[Tt]he $", before) and target[:1].isupper():
        target = "the " + target
    if joined and (target[:1].isupper() or target.startswith("the ")):
        target = f"{target} {joined.group(1)} {joined.group(2)}"
    return (target[0].upper() + target[1:] if target[:1].islower() else target) + "."


def _sentence(text: str) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    text = text[0].upper() + text[1:] if text else text
    return text if text.endswith((".", "!", "?")) else text + "."


def answer_problem(answer: str, target: str, sentence: str) -> str | None:
    """Why an expert answer would teach a wrong or missing value: it must state the asked value,
    in its first sentence, before any other value of the same sentence."""
    if not contains_fact(answer, [target]):
        return "misses_value"
    first = re.split(r"(?<=[.!?])\s+", answer.strip(), maxsplit=1)[0]
    if not contains_fact(first, [target]):
        facts = fact_strings(sentence)
        facts += [t for f in facts for t in re.findall(r"\d{1,2}:\d{2}", f) if t != f]  # each end of a range
        others = [f for f in facts if f != target and target not in f]
        if contains_fact(first, others):
            return "states_other_value_first"
    return None


# -- dialogues ---------------------------------------------------------------------------------
def small_dialogues(plans: list[FactPlan], config: RecipeConfig, asker: str, expert: str, report: RecipeReport) -> list[Dialogue]:
    """Dialogues of ``facts_per_dialogue`` exchanges; every fact asked ``questions_per_fact`` times,
    cycling its training forms and answer forms, grouped with other facts of the same chunk first."""
    rng = random.Random(config.seed)
    exchanges: list[tuple[int, FactPlan, str, str]] = []
    for k in range(config.questions_per_fact):
        for plan in plans:
            if not plan.train:
                continue
            question = plan.train[k % len(plan.train)]
            if k >= config.questions_per_fact - config.topic_framing:
                question = framed(question, plan)
            elif k < config.organisation_framing:
                question = at_organisation(question, plan, short=k % 2 == 0)
            answer = answer_for(plan, k + len(question), config.value_first)
            problem = answer_problem(answer, plan.target, plan.sentence)
            if problem:
                answer = f"{_value_lead(plan.target, plan.sentence)} {_sentence(plan.sentence)}"
                report.answers[f"restated:{problem}"] += 1
            else:
                report.answers["kept"] += 1
            exchanges.append((k, plan, question, answer))
    dialogues: list[Dialogue] = []
    for k in range(config.questions_per_fact):
        round_items = [e for e in exchanges if e[0] == k]
        rng.shuffle(round_items)
        round_items.sort(key=lambda e: e[1].chunk.id)  # same-chunk facts share a dialogue, as a person would ask them
        for group in _groups(round_items, config.facts_per_dialogue):
            turns: list[Turn] = []
            for _, plan, question, answer in group:
                turns.append(Turn(speaker=asker, role="user", content=question, meta={"target": plan.target}))
                turns.append(Turn(speaker=expert, role="assistant", content=answer,
                                  meta={"focus": plan.sentence, "target": plan.target, "grounded": "extractive"}))
            chunk_ids = sorted({p.chunk.id for _, p, _, _ in group})
            scenario = Scenario(id=stable_id(k, [(p.sentence, p.target) for _, p, _, _ in group], config.seed, prefix="scn-"),
                                topic=group[0][1].chunk.heading or group[0][1].chunk.source, roles=[asker, expert],
                                target_role=expert, chunk_ids=chunk_ids, max_turns=len(turns), framework="none",
                                focus=[p.sentence for _, p, _, _ in group], focus_hints=[q for _, _, q, _ in group])
            with_system = rng.random() < config.system_prompt_share
            dialogues.append(Dialogue(id=stable_id(scenario.id, "small", prefix="dlg-"), scenario=scenario, turns=turns,
                                      source="mimir", model="recipe:small", seed=config.seed,
                                      meta={"preset": "small", "system_prompt": with_system}))
    report.dialogues = len(dialogues)
    return dialogues


def _groups(items: list[tuple[int, FactPlan, str, str]], size: int) -> list[list[tuple[int, FactPlan, str, str]]]:
    """Consecutive exchanges in dialogues of ``size``, never two of one sentence together: their answers
    would be the same sentence twice ("Family law matters require $2,500, or $1,000 ..." for both values)."""
    pending, groups = list(items), []
    while pending:
        group = [pending.pop(0)]
        j = 0
        while len(group) < size and j < len(pending):
            if any(pending[j][1].sentence == g[1].sentence for g in group):
                j += 1
            else:
                group.append(pending.pop(j))
        groups.append(group)
    return groups


def framed(question: str, plan: FactPlan) -> str:
    """``question`` opened with its section's topic ("Regarding conflict checks, how quickly ...?"),
    unless it names the topic already, the section has none, or the framed question fails the check."""
    from mimir.generate.questions import content_words

    _, topic = _document_and_topic(plan.chunk)
    if topic == "its purpose" or not content_words(topic) or content_words(topic) & content_words(question):
        return question
    first = question.split(" ", 1)[0]
    text = f"Regarding {topic}, {question if _proper(first, plan.chunk.text) else question[0].lower() + question[1:]}"
    return text if not question_problem(text, plan.sentence, plan.target) else question


def at_organisation(question: str, plan: FactPlan, short: bool = False) -> str:
    """``question`` with the organisation it is about ("Who is the Head Nurse at Larkfield Lane?"),
    unless it names it already, the title names none, or the longer question fails the check."""
    name = organisation(plan.chunk)
    if not name or name.split()[0] in question:
        return question
    words = name.split()
    if short and len(words) > 2:  # "Larkfield Lane", never "Fenwick &": a joined name keeps both halves
        name = " ".join(words[:3] if words[1] in ("&", "and") else words[:2])
    text = f"{question.rstrip('?').rstrip()} at {name}?"
    return text if not question_problem(text, plan.sentence, plan.target) else question


# "Residents' Handbook", "Staff and Member Handbook": who a handbook is for is no part of the organisation's name
_TITLE_TAIL = re.compile(r"(?:\s+(?:[\w-]+s'|[\w-]+'s|Staff|Members?|Clients?|Patients?|Employees?|Crew|Passengers?|Residents?|"
                         r"Students?|Volunteers?|Parents?|Visitors?|and|&))*\s+(?:Handbook|Guide|Policy|Manual|Runbook|Rules)\b.*$")


def organisation(chunk: Chunk) -> str:
    """The organisation a document is about, from its title: "Larkfield Lane Veterinary Surgery" of
    "Larkfield Lane Veterinary Surgery: Client and Staff Handbook", "Thornbury Hall" of "Thornbury Hall
    Residents' Handbook 2026-27"; "" when the title names none."""
    title = (chunk.heading or "").split(">")[0].strip()
    parts = re.split(r"\s+[—–]\s+|\s+-\s+|:\s+", title, maxsplit=1)
    name = parts[0] if len(parts) == 2 else _TITLE_TAIL.sub("", title)
    name = name.strip()
    return name if len(parts) == 2 or (name != title and len(name.split()) >= 2) else ""  # "Employee Handbook" names none


def _proper(word: str, text: str) -> bool:
    """A name keeps its capital after "Regarding ..., ": an acronym, or a word the text also
    capitalises inside a sentence ("Walter Ng's extension"); "The", "Within", "Contingency" do not."""
    if word.isupper() and len(word) > 1:
        return True
    return bool(re.search(rf"(?<![.!?:\n#>*-])\s+{re.escape(word)}\b", text))


def passage_dialogues(chunks: list[Chunk], config: RecipeConfig, asker: str, expert: str, report: RecipeReport) -> list[Dialogue]:
    """Each passage of the knowledge recited, ``passage_exposures`` times, as the expert's answer to a
    question about its topic (the chunk's section heading). Q/A pairs alone teach the model to
    answer the rule-built wordings; reading the facts in the document's own sentences as well is
    what lets other wordings find them (knowledge seen as statements and as answers)."""
    from mimir.prompts import load_prompts

    if config.passage_exposures <= 0:
        return []
    asks = [str(a) for a in load_prompts("generate")["passage_questions"]]
    rng = random.Random(config.seed + 1)
    dialogues: list[Dialogue] = []
    for chunk, text, header in _with_table_headers(chunks):
        if chunk.kind == "qa":
            continue  # a dataset's Q/A row is asked about by its own question
        document, topic = _document_and_topic(chunk)
        lines = _with_lists(sentences(text, header), config.passage_words)
        for k in range(config.passage_exposures):
            # every other exposure cuts the passages one sentence later, so each fact is also read
            # beside other neighbours (the model binds it to its own words, not to one window's)
            shift = k % 2 if len(lines) > 2 else 0
            for part, window in enumerate(_windows(lines[:shift], config.passage_words) + _windows(lines[shift:], config.passage_words)):
                question = asks[(k + part + len(dialogues)) % len(asks)].format(document=document, topic=topic)
                turns = [Turn(speaker=asker, role="user", content=question, meta={"passage": True}),
                         Turn(speaker=expert, role="assistant", content=window, meta={"grounded": "extractive", "passage": True})]
                scenario = Scenario(id=stable_id("passage", chunk.id, part, k, config.seed, prefix="scn-"), topic=topic,
                                    roles=[asker, expert], target_role=expert, chunk_ids=[chunk.id], max_turns=2,
                                    framework="none", focus=[window], focus_hints=[question])
                dialogues.append(Dialogue(id=stable_id(scenario.id, "passage", prefix="dlg-"), scenario=scenario, turns=turns,
                                          source="mimir", model="recipe:passage", seed=config.seed,
                                          meta={"preset": "small", "passage": True,
                                                "system_prompt": rng.random() < config.system_prompt_share}))
    report.passages = len(dialogues)
    return dialogues


def subject_dialogues(chunks: list[Chunk], config: RecipeConfig, asker: str, expert: str, report: RecipeReport) -> list[Dialogue]:
    """Each fact sentence that opens with a plain subject recited, ``subject_exposures`` times, as the
    answer to a question about that subject ("What does the Client Intake Policy say about an
    unused retainer?" -> "Any unused retainer is returned within 10 business days ..."). A person
    asks by what a rule is about, in their own verbs; the rule-built forms all carry the sentence's
    verb and unit ("within how many business days is ... returned"), and this is the exposure that
    does not. Sentences of one document with the same subject answer together, so one question
    never trains two different answers."""
    from mimir.prompts import load_prompts

    if config.subject_exposures <= 0:
        return []
    asks = [str(a) for a in load_prompts("generate")["subject_questions"]]
    answers: dict[tuple[str, str], list[str]] = {}
    where: dict[tuple[str, str], tuple[Chunk, str, str]] = {}
    for chunk, text, header in _with_table_headers(chunks):
        if chunk.kind == "qa":
            continue
        document, _ = _document_and_topic(chunk)
        for sentence in fact_sentences(text, header):
            subject = subject_phrase(sentence)
            if not subject or sentence.rstrip().endswith(":"):
                continue
            key = (chunk.source, subject.lower())
            said = answers.setdefault(key, [])
            if _sentence(sentence) not in said and len(" ".join(said + [sentence]).split()) <= config.passage_words:
                said.append(_sentence(sentence))
            where.setdefault(key, (chunk, document, subject))
    rng = random.Random(config.seed + 2)
    order = {key: i for i, key in enumerate(answers)}
    dialogues: list[Dialogue] = []
    for k in range(config.subject_exposures):
        keys = list(answers)
        rng.shuffle(keys)
        keys.sort(key=lambda key: where[key][0].id)  # a dialogue stays within one part of the document
        for start in range(0, len(keys), config.facts_per_dialogue):
            group = keys[start:start + config.facts_per_dialogue]
            turns: list[Turn] = []
            for key in group:
                chunk, document, subject = where[key]
                # each exposure of a subject in the next wording; neighbours start at different ones
                question = asks[(k + order[key]) % len(asks)].format(document=document, subject=subject)
                answer = " ".join(answers[key])
                turns.append(Turn(speaker=asker, role="user", content=question, meta={"subject": subject}))
                turns.append(Turn(speaker=expert, role="assistant", content=answer,
                                  meta={"grounded": "extractive", "focus": answer, "subject": subject}))
            chunk_ids = sorted({where[key][0].id for key in group})
            scenario = Scenario(id=stable_id("subject", group, k, config.seed, prefix="scn-"), topic=where[group[0]][2],
                                roles=[asker, expert], target_role=expert, chunk_ids=chunk_ids, max_turns=len(turns),
                                framework="none", focus=[" ".join(answers[key]) for key in group],
                                focus_hints=[t.content for t in turns if t.role == "user"])
            dialogues.append(Dialogue(id=stable_id(scenario.id, "subject", prefix="dlg-"), scenario=scenario, turns=turns,
                                      source="mimir", model="recipe:subject", seed=config.seed,
                                      meta={"preset": "small", "subject": True,
                                            "system_prompt": rng.random() < config.system_prompt_share}))
    report.subject_recitations = len(answers) * config.subject_exposures
    return dialogues


def _document_and_topic(chunk: Chunk) -> tuple[str, str]:
    """("the Client Intake Policy", "conflict checks") from a heading path "Fenwick & Lowry LLP — Client
    Intake Policy > 3. Conflict Checks"; the file name stands in for a missing title."""
    parts = [p.strip() for p in (chunk.heading or "").split(">") if p.strip()]
    heading = parts[0] if parts else Path(chunk.source).stem.replace("_", " ").replace("-", " ")
    *owner, title = re.split(r"\s+[—–-]\s+|:\s+", heading)  # "Firm — Client Intake Policy": the owner, the document's own name
    title = title if title.lower().startswith("the ") else f"the {title}"
    if len(parts) < 2:
        return title, "its purpose"  # text before the first section: the document's preamble
    topic = re.sub(r"^(?:\d+(?:\.\d+)*|[IVX]+)[.)]?\s+", "", parts[-1])
    # a Title Case heading read in running text ("Conflict Checks" -> "conflict checks"); codes stay, and
    # so does the name of the title's owner ("Bobbinhall Works: Member and Staff Handbook"); words the text
    # capitalises inside a sentence are no sign of a name here (list items, table cells: "Severity", "Surgery")
    names = re.findall(r"[A-Z][a-z]+", " ".join(owner))
    words = topic.split()
    topic = " ".join(w.lower() if re.fullmatch(r"[A-Z][a-z]+[,;]?", w) and not _owner_name(words, i, names) else w
                     for i, w in enumerate(words))
    # "About the Clinic", "Welcome to Bobbinhall Works": the topic is "the clinic", "Bobbinhall Works"
    topic = re.sub(r"^(?:about|welcome to)\s+", "", topic, flags=re.IGNORECASE)
    return title, topic


def _owner_name(words: list[str], i: int, owner: list[str]) -> bool:
    """``words[i]`` belongs to the owner's name: its first word ("Bobbinhall"), or one of its words beside
    another ("Veterinary Surgery"); a lone common word of it ("Surgery and Hospital Stays") does not."""
    word = words[i].strip(",;")
    if not owner or word not in owner:
        return False
    return word == owner[0] or any(0 <= j < len(words) and words[j].strip(",;") in owner for j in (i - 1, i + 1))


def _with_lists(lines: list[str], max_words: int) -> list[str]:
    """A list's lead-in line and its items as one sentence ("Please call straight away if you notice any
    of these signs: difficulty breathing ...; a seizure lasting more than 2 minutes."), split into
    several that each repeat the lead-in when it is long: an item recited without its lead-in
    ("Bleeding that has not stopped after 5 minutes.") says nothing about what it is a list of."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        lead, j = lines[i].rstrip(), i + 1
        while lead.endswith(":") and j < len(lines) and lines[j][:1].islower():
            j += 1
        items = [line.strip().rstrip(" .;") for line in lines[i + 1:j]]
        if not items:
            out.append(lines[i])
            i += 1
            continue
        group: list[str] = []
        for item in items:
            if group and len(" ".join([lead, *group, item]).split()) > max_words:
                out.append(f"{lead} {'; '.join(group)}.")
                group = []
            group.append(item)
        out.append(f"{lead} {'; '.join(group)}.")
        i = j
    return out


def _windows(lines: list[str], max_words: int) -> list[str]:
    """Consecutive sentences joined into passages of at most ``max_words`` words (a longer sentence is its own)."""
    out: list[str] = []
    current: list[str] = []
    for line in lines:
        line = _sentence(line.rstrip(":"))  # a list's lead-in ("... begins:") ends as a sentence
        if current and len(" ".join(current + [line]).split()) > max_words:
            out.append(" ".join(current))
            current = []
        current.append(line)
    if current:
        out.append(" ".join(current))
    return out


def check_questions(plans: list[FactPlan]):  # -> list[EvalQuestion]
    """The held-out questions of the knowledge check: one per fact that has one, never trained."""
    from mimir.evaluate.evalsets import EvalQuestion

    out = []
    for plan in plans:
        for text in plan.held_out:
            out.append(EvalQuestion(id=stable_id(plan.sentence, plan.target, text, prefix="kc_", length=12), question=text,
                                    answer=plan.sentence, key_facts=[plan.target], section=plan.chunk.heading,
                                    chunk_ids=[plan.chunk.id], meta={"source": plan.chunk.source}))
    return out


# -- replay ------------------------------------------------------------------------------------
def replay_records(model: Any, n: int, seed: int = 0) -> list[dict[str, Any]]:
    """The base model's own answers to ``n`` general prompts, as training records (no system prompt)."""
    from mimir.models.base import GenerationSettings
    from mimir.prompts import load_prompts

    prompts = list(load_prompts("generate")["general_prompts"])
    random.Random(seed).shuffle(prompts)
    chosen = (prompts * (1 + n // max(1, len(prompts))))[:n]
    unique = list(dict.fromkeys(chosen))
    replies = model.generate([[{"role": "user", "content": p}] for p in unique], GenerationSettings(max_new_tokens=96, temperature=0.0))
    answers = {p: clean_replay(r.text, r.finish_reason) for p, r in zip(unique, replies)}
    return [{"id": stable_id("replay", i, p, prefix="rp-"), "messages": [{"role": "user", "content": p},
             {"role": "assistant", "content": answers[p]}], "metadata": {"source": REPLAY_SOURCE}}
            for i, p in enumerate(chosen) if answers[p]]


def clean_replay(text: str, finish_reason: str = "stop") -> str:
    """A replay answer fit to train on, or "": one cut by the token limit ends at its last full sentence
    (trained as it was, it teaches the model to stop mid-word), and a repetition loop ("Boil an egg:
    Boil an egg: ...", read in the halls run) is dropped rather than taught back to the model, by the
    verifier's own loop test and bound."""
    from mimir.verify.config import VerifyConfig
    from mimir.verify.filters import repeated_ngram_ratio

    max_repeated = VerifyConfig().max_repeated_ngram_ratio
    text = text.strip()
    if finish_reason == "length":
        ends = [m.end() for m in re.finditer(r"[.!?](?=\s|$)", text)]
        text = text[: ends[-1]] if ends and ends[-1] >= 40 else ""
    return "" if repeated_ngram_ratio(text) > max_repeated else text


Progress = Callable[[int, int, str], None]
