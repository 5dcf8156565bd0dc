"""Execute notebooks in fast mode and store the outputs of their ``# NBVAL_CHECK_OUTPUT`` cells.

    .venv/bin/python tools/store_checked_outputs.py notebooks/00_setup_and_hub_tour.ipynb

Only those cells keep outputs (nbval compares them in the tests); every other cell is left
clean. Run it after changing such a cell.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path

import papermill

MARK = "# NBVAL_CHECK_OUTPUT"


def store(path: Path) -> int:
    os.environ["TUTORIAL_FAST"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        executed = Path(tmp) / path.name
        papermill.execute_notebook(
            str(path),
            str(executed),
            kernel_name="python3",
            cwd=str(path.parent),
            progress_bar=False,
        )
        ran = {c["id"]: c for c in json.loads(executed.read_text(encoding="utf-8"))["cells"]}
    notebook = json.loads(path.read_text(encoding="utf-8"))
    stored = 0
    for index, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "code":
            continue
        if "".join(cell["source"]).lstrip().startswith(MARK) and cell["id"] in ran:
            cell["outputs"] = ran[cell["id"]]["outputs"]
            cell["execution_count"] = index
            stored += 1
    path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return stored


if __name__ == "__main__":
    for name in sys.argv[1:]:
        print(f"{name}: stored outputs of {store(Path(name))} checked cell(s)")
