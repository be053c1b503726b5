"""Evaluation: closed-book answering, pairwise judges (LLM both orders, reference key facts,
human), win / tie / loss statistics with bootstrap confidence intervals, and the paper's
experiment (``python -m mimir experiment``).

Importing this package is cheap: models, matplotlib and the pipeline stages load lazily.
"""

from mimir.evaluate.config import EvalConfig
from mimir.evaluate.evalsets import EvalQuestion, load_questions
from mimir.evaluate.records import Answer, Judgement

__all__ = ["Answer", "EvalConfig", "EvalQuestion", "Judgement", "load_questions"]
