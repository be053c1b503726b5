"""Turn a judge's reply plus the deterministic grounding result into a :class:`Verdict`.

A fix is accepted only if the corrected dialogue passes the turn filters and the grounding
check again: the judge may repair a wrong fact, it may not introduce a new unsupported one.
"""

from __future__ import annotations

from mimir.types import Chunk, Dialogue, Verdict
from mimir.verify import filters
from mimir.verify.config import VerifyConfig
from mimir.verify.grounding import GroundingResult, check_grounding
from mimir.verify.judge import Judgement

_MAX_REPLY_CHARS = 2000  # of a failed judge reply kept for inspection


def decide(
    dialogue: Dialogue,
    chunks: list[Chunk],
    grounding: GroundingResult,
    judgement: Judgement,
    config: VerifyConfig,
    scores: dict[str, float],
) -> Verdict:
    flags = [u.reason() for u in grounding.unsupported]
    scores = dict(scores)
    meta: dict = {"judge_attempts": judgement.attempts}
    if judgement.errors:
        meta["judge_errors"] = judgement.errors
    if judgement.verdict == "failed":
        meta["judge_last_reply"] = judgement.last_reply[:_MAX_REPLY_CHARS]
        return Verdict(dialogue.id, "judge_failed", judgement.reasons + flags, scores, meta=meta)
    scores["judge_supported"] = round(judgement.supported_ratio, 4)
    meta["judge_turns"] = [
        {"index": t.index, "supported": t.supported, "unsupported_claims": t.unsupported_claims} for t in judgement.turns
    ]
    judge_reasons = [f"judge_unsupported: {r}" for r in judgement.reasons]
    if judgement.verdict == "reject":
        return Verdict(dialogue.id, "reject", judge_reasons + flags, scores, meta=meta)
    if judgement.verdict == "keep":
        if flags and config.grounding == "reject" and not config.trust_judge_over_grounding:
            reasons = flags + [f"judge_overruled: the judge kept it, but {len(flags)} expert claim(s) are in no source"]
            return Verdict(dialogue.id, "reject", reasons, scores, meta=meta)
        if flags:
            meta["grounding_flags_overruled"] = flags
        return Verdict(dialogue.id, "keep", [], scores, meta=meta)
    # verdict == "fix": apply the corrections, then check the repaired dialogue again
    fixes = judgement.corrections
    meta["judge_reasons"] = judgement.reasons
    again = filters.check_turns(dialogue, config, replacements=fixes)
    if config.grounding != "off":
        regrounded = check_grounding(dialogue, chunks, check_reasoning=config.check_reasoning, replacements=fixes)
        scores["fixed_grounding_score"] = round(regrounded.score, 4)
        if regrounded.unsupported and config.grounding == "reject" and not config.trust_judge_over_grounding:
            again += [f"fix_ungrounded: {u.reason()}" for u in regrounded.unsupported]
    if again:
        return Verdict(dialogue.id, "reject", judge_reasons + flags + again, scores,
                       fixed_turns={}, meta={**meta, "rejected_fix": {str(k): v for k, v in fixes.items()}})
    fixed = {str(k): v for k, v in sorted(fixes.items())}
    reasons = [f"fixed: {r}" for r in judgement.reasons]
    return Verdict(dialogue.id, "fix", reasons, scores, fixed_turns=fixed,
                   meta={**meta, "original_turns": {k: dialogue.turns[int(k)].content for k in fixed}, "grounding_flags": flags})
