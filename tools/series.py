"""Execute lesson notebooks, render HTML copies, report time and memory.

    python -m tools.series [NOTEBOOK ...] [--fast] [--no-solutions] [--no-html] [--output DIR]
                           [--lang {en,zh-CN,all}] [--jobs N]

Used by ``python dev.py setup`` / ``run``, by the tests and by ``benchmarks/series.py``. Each
notebook runs in a fresh kernel through papermill, one after another or, with ``--jobs 2``,
two at a time on half the cores each (tools/notebook_pool.py); the peak resident memory of
the kernel is sampled while it runs, and the load average noted when it starts. The output
is a few lines per notebook and a table, the same in a terminal and in a log file: the kernel's own start-up
warnings (such as "Kernel is running over TCP without encryption") are not printed.
"""

from __future__ import annotations

import argparse
import os
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from tools.notebook_pool import (
    Job,
    longest_first,
    run_jobs,
    temporary_environment,
    threads_per_kernel,
)
from tutorial_utils.paths import project_root


@dataclass
class RunResult:
    """Outcome of one notebook run."""

    notebook: str
    status: str
    seconds: float
    peak_mb: float
    output: Path | None = None
    html: Path | None = None
    error: str = ""
    load: float | None = None  # the 1-minute load average when the notebook started


# The kernel process logs only critical errors: its start-up warning that the connection on
# 127.0.0.1 is plain-text TCP says nothing about the notebook and was printed once per
# notebook, and "KeyboardInterrupt caught in kernel." is jupyter_client's interrupt that
# starts every shutdown reaching a kernel still busy with a message (seen with two notebooks
# at a time). Cell output is not affected (it reaches the notebook over the kernel's
# channels), and a failing cell fails the run there.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]
KERNEL_START_TIMEOUT = 600  # seconds a kernel may take to start


def load_average() -> tuple[float, float, float] | None:
    """The 1, 5 and 15-minute load averages (psutil's estimate on Windows), or None."""
    if hasattr(os, "getloadavg"):  # not on Windows
        try:
            return os.getloadavg()
        except OSError:
            return None
    try:
        import psutil

        return psutil.getloadavg()  # Windows: averaged by psutil from its first call on
    except (ImportError, AttributeError, OSError):
        return None


def format_load(load: tuple[float, float, float] | None) -> str:
    """``1.23 0.98 0.50`` (1, 5, 15 minutes), or ``n/a``."""
    return " ".join(f"{x:.2f}" for x in load) if load else "n/a"


class _PeakMemory:
    """Samples the resident memory of this process's children (the kernel) in a thread."""

    def __init__(self, interval: float = 0.2) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            for child in me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            self._stop.wait(self.interval)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


EDITIONS = {"en": Path("."), "zh-CN": Path("zh-CN")}  # the folder of each under notebooks/


def lesson_notebooks(include_solutions: bool = True, lang: str = "en") -> list[Path]:
    """The lesson notebooks of an edition in order, then their solutions ("all": en, zh-CN)."""
    if lang == "all":
        return [p for edition in EDITIONS for p in lesson_notebooks(include_solutions, edition)]
    if lang not in EDITIONS:
        raise ValueError(f"unknown edition {lang!r}: give one of {', '.join(EDITIONS)} or all")
    folder = project_root() / "notebooks" / EDITIONS[lang]
    notebooks = sorted(folder.glob("[0-9][0-9]_*.ipynb"))
    if include_solutions:
        notebooks += sorted((folder / "solutions").glob("[0-9][0-9]_*.ipynb"))
    return notebooks


def output_subfolder(path: Path) -> Path:
    """Where a notebook's executed copy goes below the output folder.

    ``notebooks/`` for English lessons, ``solutions/`` for their solutions, ``zh-CN/`` and
    ``zh-CN/solutions/`` for the Chinese edition (its solutions keep their English names, so
    the editions need folders of their own); a notebook elsewhere: its folder's name.
    """
    path = Path(path).resolve()
    try:
        relative = path.parent.relative_to(project_root() / "notebooks")
    except ValueError:
        return Path(path.parent.name)
    return relative if relative.parts else Path("notebooks")


def run_notebook(
    path: Path,
    output_dir: Path,
    parameters: dict | None = None,
    html: bool = True,
    timeout: int = 1800,
) -> RunResult:
    """Execute one notebook in a fresh kernel into ``output_dir``; never raises on a cell error."""
    import logging

    import papermill

    # papermill warns that it cannot parse `FAST = os.environ.get(...) == "1"`: harmless
    logging.getLogger("papermill").setLevel(logging.ERROR)

    path = Path(path)
    output_dir.mkdir(parents=True, exist_ok=True)
    executed = output_dir / path.name
    load = load_average()
    started = time.perf_counter()
    status, error = "ok", ""
    with _PeakMemory() as memory:
        try:
            papermill.execute_notebook(
                str(path),
                str(executed),
                parameters=parameters or {},
                kernel_name="python3",
                cwd=str(path.parent),
                progress_bar=False,
                execution_timeout=timeout,
                # a kernel at a low priority (the tests' background runs) may wait long for a
                # core while other work keeps both busy: give it more than papermill's 60 s
                start_timeout=KERNEL_START_TIMEOUT,
                extra_arguments=KERNEL_ARGUMENTS,  # to the kernel (nbclient)
            )
        except Exception as exc:  # noqa: BLE001 - report, keep going with the next notebook
            status = "FAILED"
            error = str(exc).strip().splitlines()[-1][:300] if str(exc).strip() else repr(exc)
    seconds = time.perf_counter() - started
    html_path = None
    if html and executed.exists():
        from tools.html_export import export_html  # works offline: local MathJax, static widgets

        html_path = export_html(executed)
    return RunResult(
        path.name,
        status,
        seconds,
        memory.peak / 2**20,
        executed,
        html_path,
        error,
        load[0] if load else None,
    )


def format_table(results: list[RunResult]) -> str:
    """A plain-text table: notebook, status, seconds, peak memory, load average at its start;
    then the totals (seconds added up, the largest peak)."""
    width = max([len(r.notebook) for r in results] + [8])
    lines = [f"{'notebook':<{width}}  {'status':<6}  {'seconds':>8}  {'peak MB':>8}  {'load':>5}"]
    lines.append("-" * len(lines[0]))
    for r in results:
        load = f"{r.load:>5.2f}" if r.load is not None else f"{'n/a':>5}"
        lines.append(
            f"{r.notebook:<{width}}  {r.status:<6}  {r.seconds:>8.1f}  {r.peak_mb:>8.0f}  {load}"
        )
    lines.append("-" * len(lines[0]))
    total = sum(r.seconds for r in results)
    peak = max((r.peak_mb for r in results), default=0.0)
    failed = sum(r.status != "ok" for r in results)
    state = "ok" if not failed else f"{failed} bad"
    lines.append(f"{'total':<{width}}  {state:<6}  {total:>8.1f}  {peak:>8.0f}")
    for r in results:
        if r.error:
            lines.append(f"{r.notebook}: {r.error}")
    return "\n".join(lines)


def _print(line: str) -> None:
    print(line, flush=True)  # a log file or CI shows each line when it happens


def run_series(
    notebooks: list[Path] | None = None,
    output_dir: Path | None = None,
    fast: bool = False,
    html: bool = True,
    log=_print,
    jobs: int = 1,
) -> list[RunResult]:
    """Run notebooks (one after another, or ``jobs`` side by side on their share of the
    cores: tools/notebook_pool.py); print progress and a table in the notebooks' order."""
    notebooks = notebooks or lesson_notebooks()
    output_dir = output_dir or project_root() / "outputs" / "series"
    folders = [output_subfolder(path) for path in notebooks]
    names = [
        path.name if folder == Path("notebooks") else f"{folder.as_posix()}/{path.name}"
        for path, folder in zip(notebooks, folders, strict=True)
    ]
    parameters = {"FAST": True} if fast else None
    work = [
        Job(path, output_dir / f, parameters, {}, html)
        for path, f in zip(notebooks, folders, strict=True)
    ]
    log(f"load average (1, 5, 15 min) at the start: {format_load(load_average())}")
    if jobs > 1:
        log(f"{jobs} notebooks at a time, {threads_per_kernel(jobs)} thread(s) each")
    results: dict[int, RunResult] = {}
    started = time.perf_counter()

    def starting(index: int) -> None:
        log(f"[{index + 1}/{len(notebooks)}] {names[index]} ...")

    with temporary_environment({"TUTORIAL_FAST": "1"} if fast else {}):  # kernels inherit it
        order = longest_first(work) if jobs > 1 else None  # alone: the lessons' order
        for index, result in run_jobs(run_notebook, work, jobs, starting, order):
            where = f"{names[index]}: " if jobs > 1 else ""
            log(
                f"    {where}{result.status} in {result.seconds:.1f} s, peak {result.peak_mb:.0f} MB"
            )
            results[index] = result
    ordered = [results[i] for i in range(len(notebooks))]
    log(format_table(ordered))
    log(f"wall time {time.perf_counter() - started:.0f} s ({jobs} at a time)")
    log(f"load average (1, 5, 15 min) at the end: {format_load(load_average())}")
    if html and any(r.html for r in ordered):
        from tools.html_export import write_index

        log(f"HTML copies (they work offline): {write_index(output_dir)}")
    log(f"Executed notebooks{' and HTML copies' if html else ''}: {output_dir}")
    return ordered


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.series", description=__doc__)
    parser.add_argument("notebooks", nargs="*", help="notebooks to run (default: all, in order)")
    parser.add_argument("--fast", action="store_true", help="small sizes (TUTORIAL_FAST=1)")
    parser.add_argument("--no-solutions", action="store_true")
    parser.add_argument("--no-html", action="store_true")
    parser.add_argument("--output", help="folder for executed copies (default outputs/series)")
    parser.add_argument(
        "--lang",
        choices=[*EDITIONS, "all"],
        default="en",
        help="the edition to run: en (notebooks/), zh-CN (notebooks/zh-CN/, 中文版) or all",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="notebooks run side by side, each kernel on cores/JOBS threads (default 1)",
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs must be 1 or more, not {args.jobs}")
    notebooks = [Path(n).resolve() for n in args.notebooks] or lesson_notebooks(
        not args.no_solutions, args.lang
    )
    output = Path(args.output) if args.output else None
    results = run_series(notebooks, output, fast=args.fast, html=not args.no_html, jobs=args.jobs)
    return 0 if all(r.status == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
