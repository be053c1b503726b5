"""Start-up stays cheap: no stage package pulls in the heavy libraries at import time.

``import mimir`` must cost well under 0.3 s and the CLI must answer ``--help`` without torch,
transformers or gradio; those load inside the functions that use them. Each check runs in a new
interpreter (this process has long imported everything). benchmarks/startup.py measures times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "transformers", "gradio", "trl", "peft", "datasets", "accelerate", "bitsandbytes",
         "sentence_transformers", "smolagents", "matplotlib", "pandas")
PACKAGES = ("mimir", "mimir.cli", "mimir.tune", "mimir.models", "mimir.knowledge", "mimir.generate", "mimir.verify",
            "mimir.train", "mimir.train.worker", "mimir.evaluate", "mimir.hub", "mimir.ui.launch")


def _loaded_after(statement: str) -> list[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("package", PACKAGES)
def test_importing_a_stage_package_loads_no_heavy_library(package):
    assert _loaded_after(f"import {package}") == [], f"`import {package}` pulled in heavy libraries; import them lazily"


def test_cli_help_of_every_stage_loads_no_heavy_library():
    statement = (
        "import contextlib, io\n"
        "from mimir.cli import main\n"
        "for stage in ('knowledge', 'generate', 'verify', 'train', 'evaluate', 'tune', 'app'):\n"
        "    with contextlib.redirect_stdout(io.StringIO()):\n"
        "        try:\n"
        "            main([stage, '--help'])\n"
        "        except SystemExit:\n"
        "            pass"
    )
    assert _loaded_after(statement) == []
