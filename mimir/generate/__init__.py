"""Stage 3: knowledge in, multi-role training dialogues out (plus baselines to compare with).

    from mimir.generate import GenerateConfig, generate_dialogues, export_for_training
    dialogues = generate_dialogues(kb, GenerateConfig(domain="medical"), model, "runs/dialogues.jsonl")
    rows = export_for_training(dialogues, include_reasoning=False)

Everything heavy (models, smolagents, rouge-score) is imported only when used.
"""

from mimir.generate.baselines import build_baseline
from mimir.generate.config import BaselineConfig, GenerateConfig
from mimir.generate.export import export_for_training, fact_share, write_export
from mimir.generate.pipeline import generate_dialogues, load_dialogues
from mimir.generate.planner import coverage, plan_scenarios
from mimir.generate.roles import Role, RoleBook, load_roles

__all__ = [
    "BaselineConfig",
    "GenerateConfig",
    "Role",
    "RoleBook",
    "build_baseline",
    "coverage",
    "export_for_training",
    "fact_share",
    "generate_dialogues",
    "load_dialogues",
    "load_roles",
    "plan_scenarios",
    "write_export",
]
