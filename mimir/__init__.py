"""MIMIR: personalized agent tuning — private knowledge in, a tuned expert model out.

Importing this package is cheap on purpose: torch, transformers and gradio load lazily,
only inside the functions that need them.
"""

__version__ = "0.1.0"
