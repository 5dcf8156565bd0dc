"""Run notebooks side by side, each kernel on its share of the cores.

Two PyTorch processes that each use every core slow each other down many times over (their
threads fight for the same cores), so a kernel started here gets ``cores // workers``
threads (``OMP_NUM_THREADS``). Much of a fast-mode notebook is single-threaded anyway
(kernel start, imports, tokenising, Python loops), which is what two workers overlap.

A lesson and its solution write into the same ``outputs/NN_topic/`` folder, so two notebooks
of one lesson number (English, zh-CN, a solution, a second run with other parameters) never
run at the same time; and a notebook that reads another lesson's results waits for it
(:data:`READS_FROM`).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

Result = TypeVar("Result")
Runner = Callable[..., Result]  # run(path, output_dir, parameters, html) -> a result

# Lesson 06 reads lesson 02's results.json when it is there (its "from scratch" row).
READS_FROM = {"06": {"02"}}
# The lessons whose notebooks take longest (lesson, solution, second runs), longest first as
# measured on 2 cores, default and fast sizes alike; 02 comes before 06, which waits for it.
LONGEST = ("09", "02", "06", "10", "07")


@dataclass(frozen=True)
class Job:
    """One notebook run: where its executed copy goes, its parameters and environment."""

    path: Path
    output_dir: Path
    parameters: dict | None = None
    env: dict[str, str] = field(default_factory=dict)
    html: bool = True

    @property
    def lesson(self) -> str:
        """The lesson number, ``"06"`` for ``06_fine_tuning_with_trainer.ipynb``."""
        return Path(self.path).name[:2]


def threads_per_kernel(workers: int) -> int:
    """The cores each of ``workers`` kernels may use (at least one)."""
    return max(1, (os.cpu_count() or 1) // max(workers, 1))


@contextlib.contextmanager
def temporary_environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration of a ``with`` block, then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def execute(run: Runner, job: Job) -> Result:
    """``run`` one job in this process (a worker of the pool, or the caller when alone); the
    kernel it starts inherits the job's environment."""
    with temporary_environment(job.env):
        return run(job.path, job.output_dir, job.parameters, job.html)


def may_start(index: int, jobs: list[Job], waiting: set[int], running: set[int]) -> bool:
    """Whether ``jobs[index]`` can start while ``running`` run and ``waiting`` wait."""
    lesson = jobs[index].lesson
    if any(jobs[i].lesson == lesson for i in running):
        return False
    needs = READS_FROM.get(lesson, set())
    unfinished = waiting | running
    return not any(jobs[i].lesson in needs for i in range(index) if i in unfinished)


def longest_first(jobs: list[Job]) -> list[int]:
    """Indices of ``jobs``: those of the :data:`LONGEST` lessons first, in that order, then the
    rest in list order. Side by side, the long ones then end before the short ones run out."""
    rank = {lesson: place for place, lesson in enumerate(LONGEST)}
    return sorted(range(len(jobs)), key=lambda i: (rank.get(jobs[i].lesson, len(rank)), i))


def _start_worker(environment: dict[str, str] | None, cwd: str | None, niceness: int = 0) -> None:
    """Give a pool worker the environment and folder it was asked for, whatever the process
    that spawned it had at that moment (another thread may have changed them for a test),
    and lower its priority by ``niceness`` where the system has ``os.nice`` (not Windows):
    the kernels it starts inherit it."""
    if environment is not None:
        os.environ.clear()
        os.environ.update(environment)
    if cwd is not None:
        os.chdir(cwd)
    if niceness > 0 and hasattr(os, "nice"):
        os.nice(niceness)


def run_jobs(
    run: Runner,
    jobs: list[Job],
    workers: int = 1,
    on_start: Callable[[int], None] | None = None,
    order: Sequence[int] | None = None,
    allowed: Callable[[], int] | None = None,
    environment: dict[str, str] | None = None,
    cwd: Path | None = None,
    niceness: int = 0,
) -> Iterator[tuple[int, Result]]:
    """``run`` each job, up to ``workers`` side by side; yield ``(index, result)`` as each ends.

    ``run`` is a module-level function (worker processes import it by name), normally
    ``tools.series.run_notebook``. Jobs start in ``order`` (indices into ``jobs``; default
    list order) where :func:`may_start` allows: the longest first shortens the wall time.
    With one worker they run one after another in this process, with the default threads.

    From a background thread, pass ``allowed`` (how many may run now, at most ``workers``,
    asked again every second: start with one while the caller's other work runs) and
    ``environment`` and ``cwd`` (the whole environment and the folder of the worker processes,
    taken before another thread could change this process's); the jobs then always run in
    worker processes, each kernel on ``cores // workers`` threads unless its job says otherwise.
    ``niceness`` lowers the workers' priority (Unix): background runs then take the CPU time
    that the caller's other work leaves, and slow it down little.
    """
    order = list(range(len(jobs))) if order is None else list(order)
    if sorted(order) != list(range(len(jobs))):
        raise ValueError(f"order must name each of the {len(jobs)} jobs once, not {order}")
    waiting = set(range(len(jobs)))
    if workers <= 1 and allowed is None and environment is None and cwd is None and not niceness:
        while waiting:
            index = next(i for i in order if i in waiting and may_start(i, jobs, waiting, set()))
            waiting.discard(index)
            if on_start:
                on_start(index)
            yield index, execute(run, jobs[index])
        return
    threads = str(threads_per_kernel(workers))
    caps = {"OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads}
    running: dict[Future, int] = {}
    context = multiprocessing.get_context("spawn")  # the same on Linux, macOS and Windows
    start = (environment, None if cwd is None else str(cwd), niceness)
    with ProcessPoolExecutor(
        max(workers, 1), mp_context=context, initializer=_start_worker, initargs=start
    ) as pool:
        while waiting or running:
            now = workers if allowed is None else max(1, min(workers, allowed()))
            for index in [i for i in order if i in waiting]:
                if len(running) >= now:
                    break
                if may_start(index, jobs, waiting, set(running.values())):
                    waiting.discard(index)
                    if on_start:
                        on_start(index)
                    job = replace(jobs[index], env={**caps, **jobs[index].env})
                    running[pool.submit(execute, run, job)] = index
            # while fewer may run than the pool holds, look again every second
            timeout = 1.0 if allowed is not None and now < workers else None
            done, _ = wait(running, timeout=timeout, return_when=FIRST_COMPLETED)
            for future in done:
                yield running.pop(future), future.result()
