"""Configuration of ``python -m mimir evaluate``."""

from __future__ import annotations

from dataclasses import dataclass

from mimir.config import option


@dataclass
class EvalConfig:
    """Which two models answer which questions, and who judges."""

    a: str = option("local", help="Model A spec (local, local:PATH, endpoint:MODEL[@URL]); 'ADAPTER_DIR' via adapter_a.")
    b: str = option("local", help="Model B spec, the baseline A is compared with.")
    adapter_a: str = option("", help="Optional peft adapter folder applied on top of model A (local backend).")
    adapter_b: str = option("", help="Optional peft adapter folder applied on top of model B (local backend).")
    questions: str = option("", help="Question file (.jsonl/.json) or dataset (Hub id, local folder or file).")
    dataset_split: str = option("test", help="Split to read when questions names a dataset.")
    judges: list[str] = option(["reference", "llm"], choices=("reference", "llm"), help="Judges to run: reference (key facts), llm (pairwise, both orders).")
    judge_model: str = option("local", help="Model spec of the LLM judge.")
    max_new_tokens: int = option(96, min=1, help="Longest answer in tokens (closed-book answering).")
    judge_max_new_tokens: int = option(24, min=1, help="Longest judge reply in tokens (it must only name a verdict).")
    batch_size: int = option(16, min=1, help="Conversations per generate() call for local models.")
    bootstrap: int = option(2000, min=1, help="Bootstrap resamples for the 95% confidence intervals.")
    seed: int = option(0, help="Seed of the bootstrap.")
    tie_margin: float = option(0.0, min=0.0, help="Reference judge: score differences up to this margin are ties.")
    label_a: str = option("A", help="Display name of model A in tables and charts.")
    label_b: str = option("B", help="Display name of model B in tables and charts.")


@dataclass
class ExperimentConfig:
    """The paper's comparison on one knowledge base: MIMIR data vs original, self-instruct and Baize."""

    knowledge: str = option(
        "", bundled="examples", help="Folder of knowledge files (or a knowledge base folder) to tune on. Empty: the bundled "
        "example (a fictional clinic handbook, on-call rota and 44 held-out questions)."
    )
    run_dir: str = option("runs/experiment", help="Every stage's outputs go here; a rerun skips finished stages.")
    model: str = option("local", help="Model spec that generates all four data sets (the same for fairness).")
    base_model: str = option("embedded", help="Model every adapter is trained on and the base of the comparison.")
    judge_model: str = option("local", help="Model spec of the LLM pairwise judge.")
    questions: str = option(
        "", path="file", help="Held-out question file. Empty: KNOWLEDGE/questions.jsonl if present, else questions generated from the knowledge."
    )
    generated_questions: int = option(40, min=1, help="How many questions to generate when there is no question file.")
    mimir_presets: list[str] = option(
        ["small", "roleplay"], choices=("small", "roleplay"), help="Recipe presets of the MIMIR arms, one adapter each: 'small' "
        "(rule-built questions, extractive answers) is the arm 'mimir'; 'roleplay' (the generator words every turn: multi-role, "
        "tools, frameworks) is 'mimir-roleplay'. The first is the size the baselines are matched to."
    )
    domain: str = option("medical", help="Domain whose roles take part in the MIMIR arms (roles file key).")
    baselines: list[str] = option(["original", "self-instruct", "baize"], choices=("original", "self-instruct", "baize"), help="Baselines to build, train and compare with.")
    baseline_size: int = option(
        0, min=0, help="Examples per baseline data set. 0: as many as MIMIR produced dialogues (comparable size)."
    )
    generate: dict = option({}, help="Overrides of the MIMIR arm's data recipe (RecipeConfig keys), e.g. {questions_per_fact: 4}.")
    verify: dict = option({}, help="Overrides of the verification config (VerifyConfig keys).")
    baseline: dict = option({}, help="Overrides of the baseline config (BaselineConfig keys) shared by every baseline.")
    train: dict = option({}, help="Overrides of the training config (TrainConfig keys), the same for every adapter.")
    judges: list[str] = option(["reference", "llm"], choices=("reference", "llm"), help="Judges of the pairwise comparisons.")
    max_new_tokens: int = option(40, min=1, help="Longest closed-book answer in tokens.")
    judge_max_new_tokens: int = option(10, min=1, help="Longest judge reply in tokens (a verdict needs about 6).")
    bootstrap: int = option(2000, min=1, help="Bootstrap resamples for the 95% confidence intervals.")
    seed: int = option(0, help="Seed of generation, training order and the bootstrap.")
