"""Hugging Face Spaces entry point: the MIMIR app, on the embedded model unless told otherwise.

Same as ``python -m mimir app``; run ``python app.py --help`` for the options.
"""

import sys

from mimir.ui.launch import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
