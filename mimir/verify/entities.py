"""Moved to :mod:`mimir.facts.entities` (one facts module); this name stays importable while callers move."""

import sys as _sys

from mimir.facts.entities import *  # noqa: F401,F403
import mimir.facts as _pkg  # noqa: E402

_sys.modules[__name__] = getattr(_pkg, "entities")
