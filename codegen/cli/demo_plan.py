"""What ``chainrule demo`` runs, and on how many cores.

The parts of the demo (each ``cmd_*.py``'s ``demo(out_dir)``) take their networks from ``networks()`` and
``nlp_models()``: every one, or the few of ``--quick``; and hand their independent jobs (a module's training
run, a handout's LaTeX build, an NLP model's training) to ``run_all``, which runs them on ``--jobs`` worker
processes while ``plan`` is open.  Outside ``plan`` (a part called on its own) everything is the catalogue,
one job after another in this process.

Inside ``plan`` every catalogue network is derived once (``derive.catalogue.shared``): a part derives what it
needs, and the worker processes, started (forked) after the first part, inherit what was derived before.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from derive import ChainruleError, catalogue

# --quick: the lecture's worked network, one of each further kind (layers, text, recurrence), and the NLP
# models of both tasks: every part of the demo and every kind of file it writes, in seconds
QUICK = ("two_layer_sigmoid", "one_hidden_layer", "ffnn_lm", "elman_rnn")
QUICK_NLP = ("sentiment_features", "ffnn_lm")

BLAS_THREADS = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")  # what a new process's BLAS reads
_state = {"quick": False, "jobs": 1, "pool": None, "records": {}}


@contextlib.contextmanager
def plan(jobs: int | None = None, quick: bool = False):
    """The demo's settings while it runs: ``jobs`` worker processes (default: one per core), ``quick``."""
    saved = dict(_state)
    _state.update(quick=quick, jobs=max(1, jobs or os.cpu_count() or 1), pool=None, records={})
    try:
        with catalogue.shared(), _one_blas_thread_each(_state["jobs"]):
            yield
    finally:
        pool = _state["pool"]
        _state.update(saved)
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)


@contextlib.contextmanager
def _one_blas_thread_each(jobs: int):
    """With several worker processes, one BLAS thread in each (the workers are forked, so they inherit it) and in
    the processes they start:
    two workers with a BLAS thread per core each fight over the cores, and the demo spent 25 % more CPU time
    (262 s instead of 209 s) and took 22 s longer."""
    if jobs < 2:
        yield
        return
    import numpy  # noqa: F401 - loaded first: threadpoolctl limits the BLAS libraries loaded so far
    from threadpoolctl import threadpool_limits

    # and in the processes the jobs start (a generated module's own training run), through their environment
    saved = {v: os.environ.get(v) for v in BLAS_THREADS}
    os.environ.update(dict.fromkeys(BLAS_THREADS, "1"))
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        for variable, value in saved.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value


def networks() -> list[str]:
    """The catalogue networks the demo runs, in lecture order."""
    every = catalogue.names()
    return [n for n in every if n in QUICK] if _state["quick"] else every


def nlp_models() -> list[str]:
    """The NLP models the demo trains (names of ``codegen.emit.nlp_module``)."""
    from ..emit import nlp_module

    every = nlp_module.names()
    return [n for n in every if n in QUICK_NLP] if _state["quick"] else every


def record(key: str, value) -> None:
    """Keep what a part found for a later one (the derivation part's table for the demo's index)."""
    _state["records"][key] = value


def recorded(key: str, default=None):
    """What a part kept under ``key`` (``record``) in this run of the demo, else ``default``."""
    return _state["records"].get(key, default)


def run_all(job: Callable, items: Iterable, network: Callable | None = None) -> Iterator:
    """``job(item)`` for each item, the results in the order of ``items``, each as soon as it and those before
    it are done: on the worker processes inside ``plan`` with more than one job, else here, one by one.
    ``job`` is a module-level function; it and its items and results are sent between processes (pickled).

    ``network(item)`` names the network an item is about: the workers then start with the networks whose
    jobs took longest in the parts before (a long training run started last keeps one core busy while the
    other waits), and this part's times are kept for the parts after."""
    items = list(items)
    if _state["jobs"] < 2 or len(items) < 2:
        return (job(item) for item in items)
    return _in_order(_longest_first(job, items, network))


def _longest_first(job: Callable, items: list, network: Callable | None) -> Iterator:
    took = _state["records"].setdefault("seconds", {})  # network -> seconds its latest job took
    order = range(len(items))
    if network is not None:
        order = sorted(order, key=lambda i: -took.get(network(items[i]), 0.0))
    pool = _pool()
    futures = {i: pool.submit(_timed, job, items[i]) for i in order}
    for i, item in enumerate(items):
        result, seconds = futures[i].result()
        if network is not None:
            took[network(item)] = seconds
        yield result


def _timed(job: Callable, item) -> tuple:
    """``job(item)`` and the seconds it took (in a worker)."""
    start = time.perf_counter()
    return job(item), time.perf_counter() - start


def _in_order(results: Iterator) -> Iterator:
    try:
        yield from results
    except BrokenProcessPool:  # a worker killed (out of memory?): one line, not the pool's traceback
        raise ChainruleError(
            "a worker process of the demo stopped (killed, or out of memory?); try again with fewer --jobs", "demo"
        ) from None


def _pool() -> ProcessPoolExecutor:
    if _state["pool"] is None:
        # fork, where there is one: the workers start with everything derived so far (no import, no re-derivation)
        methods = multiprocessing.get_all_start_methods()
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        _state["pool"] = ProcessPoolExecutor(max_workers=_state["jobs"], mp_context=context)
    return _state["pool"]
