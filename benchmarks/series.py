"""Execute every notebook one after another; print wall time and peak memory per notebook.

    .venv/bin/python benchmarks/series.py            # default parameters, lessons + solutions
    .venv/bin/python benchmarks/series.py --fast     # the test-mode parameters
    .venv/bin/python benchmarks/series.py notebooks/02_transformer_from_scratch.ipynb

The same code runs behind `python dev.py setup` (``python -m tools.series``).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project root: tools/

from tools.series import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["--output", "outputs/benchmark", *sys.argv[1:]]))
