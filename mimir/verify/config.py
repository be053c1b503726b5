"""Settings of the verification stage (YAML section ``verify``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from mimir.config import option
from mimir.errors import ConfigError


@dataclass
class VerifyConfig:
    """How dialogues are checked and what happens to the ones that fail."""

    mode: Literal["filter", "judge", "fix"] = option(
        "filter",
        help="filter: deterministic checks only (keep / reject). judge: also ask an LLM judge whether every "
        "expert claim is supported (keep / reject). fix: like judge, and replace unsupported expert turns with "
        "the judge's correction when it passes the grounding check again (keep / fix / reject).",
    )
    # --- deterministic filters
    min_turns: int = option(2, min=1, help="Fewest non-tool turns a dialogue may have.")
    max_turns: int = option(40, min=1, help="Most non-tool turns a dialogue may have.")
    min_turn_chars: int = option(2, min=0, help="An expert turn shorter than this (without tool calls) counts as empty.")
    max_turn_chars: int = option(4000, min=1, help="A turn longer than this is rejected as a runaway generation.")
    max_repeated_ngram_ratio: float = option(
        0.3, min=0.0, max=1.0, help="Reject a turn when more than this share of its word 4-grams are repeats (a repetition loop)."
    )
    language: str = option(
        "auto",
        help="Expected ISO 639-1 language of every turn ('en', 'de', ...); 'auto' takes the language of the "
        "source chunks; 'any' turns the language check off.",
    )
    min_language_chars: int = option(40, min=0, help="Turns shorter than this are too short to identify their language.")
    min_language_confidence: float = option(
        0.9, min=0.0, max=1.0, help="Flag a language mismatch only when py3langid is at least this sure of the other language."
    )
    near_duplicate_threshold: float = option(
        0.8, min=0.0, max=1.0, help="Jaccard similarity (MinHash over word 3-grams) above which a dialogue duplicates an earlier one; 0 turns it off."
    )
    # --- grounding
    grounding: Literal["reject", "hint", "off"] = option(
        "reject",
        help="reject: a dialogue whose expert states a number, date, time, code or name found in no source, "
        "tool observation or earlier turn is rejected (in judge/fix modes it is still sent to the judge, which "
        "may fix it). hint: only tell the judge what was flagged. off: skip the check.",
    )
    require_sources: bool = option(
        True, help="Reject dialogues whose scenario names no source chunk (nothing to ground them in)."
    )
    check_reasoning: bool = option(False, help="Also check the expert's reasoning traces (thoughts), not only what it says.")
    # --- judge
    judge: str = option("local", help="Judge model spec (local, local:PATH, endpoint:MODEL@URL, scripted) for judge/fix modes.")
    judge_batch_size: int = option(8, min=1, help="Dialogues judged per generate() call (batched across dialogues).")
    judge_max_new_tokens: int = option(768, min=1, help="Token budget of one judge reply.")
    judge_max_source_chars: int = option(3000, min=1, help="Each source chunk is cut to this many characters in the judge prompt.")
    judge_retries: int = option(1, min=0, help="Retries after a malformed judge reply (the reply's error is shown to the judge).")
    trust_judge_over_grounding: bool = option(
        False,
        help="In judge/fix modes, let a judge 'keep' overrule grounding flags (for strong judges that understand "
        "paraphrase). Off: a flagged dialogue can only be kept by fixing the flagged turns.",
    )
    export: bool = option(
        True, help="Also write the kept dialogues as training records (chat messages) beside the verified file "
        "(NAME.train.jsonl), ready for `train` and `push dataset`."
    )
    rejudge_failed: bool = option(False, help="On resume, judge again the dialogues recorded as judge_failed.")

    def __post_init__(self) -> None:
        if self.min_turns < 1 or self.max_turns < self.min_turns:
            raise ConfigError(f"verify: need 1 <= min_turns <= max_turns, got {self.min_turns} and {self.max_turns}")
        if not 0.0 <= self.near_duplicate_threshold <= 1.0:
            raise ConfigError(f"verify.near_duplicate_threshold: {self.near_duplicate_threshold} is not between 0 and 1")
        if not 0.0 < self.max_repeated_ngram_ratio <= 1.0:
            raise ConfigError(f"verify.max_repeated_ngram_ratio: {self.max_repeated_ngram_ratio} is not in (0, 1]")
        if self.judge_batch_size < 1:
            raise ConfigError("verify.judge_batch_size must be at least 1")
        if self.judge_retries < 0:
            raise ConfigError("verify.judge_retries must be 0 or more")
