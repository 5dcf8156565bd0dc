"""Execute every notebook one after another; print wall time and peak memory per notebook.

    .venv/bin/python benchmarks/series.py            # default parameters, lessons + solutions
    .venv/bin/python benchmarks/series.py --fast     # the test-mode parameters
    .venv/bin/python benchmarks/series.py notebooks/02_transformer_from_scratch.ipynb

The same code runs behind `python dev.py setup` (``python -m tutorial_utils run``).
"""

from __future__ import annotations

import sys

from tutorial_utils.__main__ import main

if __name__ == "__main__":
    sys.exit(main(["run", "--output", "outputs/benchmark", *sys.argv[1:]]))
