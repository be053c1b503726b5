"""Bar chart of win / tie / loss per comparison and judge (PNG, matplotlib Agg, imported lazily)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def save_chart(rows: list[dict[str, Any]], path: str | Path, title: str = "Pairwise evaluation") -> Path:
    """``rows``: summaries (from :func:`mimir.evaluate.stats.summarize`) with a ``label`` each.

    Draws stacked horizontal bars (win / tie / loss shares) with the win-or-equal 95% CI marked.
    """
    import matplotlib

    matplotlib.use("Agg")  # headless; never opens a window
    import matplotlib.pyplot as plt

    rows = [r for r in rows if r.get("n")]
    if not rows:
        raise ValueError("nothing to chart: no comparison has valid judgements")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig, ax = plt.subplots(figsize=(8, 0.6 * len(rows) + 2))
    labels = [r["label"] for r in rows]
    y = list(range(len(rows)))
    win = [r["wins"] / r["n"] for r in rows]
    tie = [r["ties"] / r["n"] for r in rows]
    loss = [r["losses"] / r["n"] for r in rows]
    ax.barh(y, win, color="#2e7d32", label="win")
    ax.barh(y, tie, left=win, color="#bdbdbd", label="tie")
    ax.barh(y, loss, left=[w + t for w, t in zip(win, tie)], color="#c62828", label="loss")
    for i, r in enumerate(rows):
        lo, hi = r["win_or_equal_ci"]
        ax.plot([lo, hi], [i, i], color="black", linewidth=2)
        ax.text(1.01, i, f"{r['win_or_equal']:.0%}", va="center", fontsize=9)
    ax.set_yticks(y, labels)
    ax.set_xlim(0, 1.12)
    ax.set_xlabel("share of questions (black: win-or-equal 95% CI)")
    ax.set_title(title)
    ax.invert_yaxis()  # first comparison on top
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.35), ncol=3, fontsize=8, frameon=False)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
