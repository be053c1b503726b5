"""Moved to :mod:`mimir.facts.text` (one facts module); this name stays importable while callers move."""

import sys as _sys

from mimir.facts.text import *  # noqa: F401,F403
import mimir.facts as _pkg  # noqa: E402

_sys.modules[__name__] = getattr(_pkg, "text")
