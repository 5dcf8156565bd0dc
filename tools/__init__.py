"""Developer and set-up tools that run the notebooks; learners' notebooks import ``tutorial_utils``.

* :mod:`tools.series`: run notebooks, with a table of time and memory
  (``python dev.py setup`` / ``run``, the tests, ``benchmarks/series.py``).
* :mod:`tools.notebook_pool`: two (or more) notebooks side by side, each kernel on its share
  of the cores (the tests; ``python -m tools.series --jobs 2``).
* :mod:`tools.html_export`: HTML copies of executed notebooks that read offline.
* :mod:`tools.checked_outputs`: the ``# NBVAL_CHECK_OUTPUT`` cells whose outputs are stored.

Run them from the project root (``python -m tools.series``), where ``tools`` is importable.
"""
