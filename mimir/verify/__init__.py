"""Stage 4: check generated dialogues against their sources — keep, fix or reject, and say why.

    from mimir.verify import VerifyConfig, verify_dialogues
    report = verify_dialogues("runs/x/dialogues.jsonl", "kb/clinic", VerifyConfig(mode="filter"))
    print(report.text())

Deterministic filters and the grounding check need no model; ``mode="judge"`` / ``"fix"`` add an
LLM judge (any backend). Heavy libraries load only when a check needs them.
"""

from mimir.verify.config import VerifyConfig
from mimir.verify.grounding import GroundingResult, check_grounding
from mimir.verify.pipeline import chunk_lookup, verified_path, verify_dialogues
from mimir.verify.report import VerifyReport

__all__ = ["GroundingResult", "VerifyConfig", "VerifyReport", "check_grounding", "chunk_lookup", "verified_path", "verify_dialogues"]
