"""The paper's comparison (``python -m mimir experiment``): a thin orchestration of the same public
stage functions ``tune`` uses — the recipe's data for the MIMIR arm, baselines on the same
knowledge, the same training settings for every adapter, closed-book answers, pairwise judges."""
