"""Execute notebooks one after another; print a table of seconds, peak memory and load average.

    .venv/bin/python benchmarks/series.py            # default parameters, lessons + solutions
    .venv/bin/python benchmarks/series.py --fast     # the test-mode parameters
    .venv/bin/python benchmarks/series.py notebooks/02_transformer_from_scratch.ipynb

(Windows: ``.venv\\Scripts\\python benchmarks\\series.py``.) One row per notebook: status,
seconds (kernel start included), peak resident memory of the kernel in MB, and the 1-minute
load average when it started; then the total, and the load average before and after the run
(numbers measured with other work on the machine are not comparable). The executed copies go
to ``outputs/benchmark/``; no HTML copies unless ``--html``. The same runner is behind
``python dev.py setup`` (``python -m tools.series``).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the project root: tools/

from tools.series import main  # noqa: E402


def arguments(argv: list[str]) -> list[str]:
    """The arguments for ``python -m tools.series``: this script's defaults, then ``argv``."""
    extra = [a for a in argv if a != "--html"]
    defaults = [] if "--html" in argv else ["--no-html"]
    if "--output" not in argv:
        defaults += ["--output", str(ROOT / "outputs" / "benchmark")]
    return [*defaults, *extra]


if __name__ == "__main__":
    sys.exit(main(arguments(sys.argv[1:])))
