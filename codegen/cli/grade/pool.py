"""Checks in parallel: forked worker processes, a time limit per task and one for the whole run.

The parent derives every network first; the workers are forked from it, so they share those
derivations (copy-on-write) and never derive again.  Each task runs in a worker's main thread, where
``derive.verify``'s per-claim CPU limit (a signal) works; the parent keeps a wall-clock limit per task on
top (a worker that overruns it, or dies, is killed and replaced, and its task gets a ``Failed``), and
one for the whole run (what is left is ``Failed`` too).  Without ``fork`` (or with one job) the tasks
run here, one after another, with the same limits but the per-task kill.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import wait


@dataclass(frozen=True)
class Failed:
    """A task without a result: why."""

    reason: str


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def run(keys, work, *, jobs: int, task_seconds, total_seconds: float, progress=None) -> dict:
    """``{key: work(key) or Failed}`` for every key.  ``task_seconds(key)`` is a task's wall-clock limit;
    ``progress(done, total)`` is called now and then."""
    keys = list(dict.fromkeys(keys))
    end = time.monotonic() + total_seconds
    late = Failed(f"not checked: the run's time limit ({total_seconds:g} s) was reached")
    if jobs <= 1 or len(keys) <= 1 or not hasattr(os, "fork"):
        return _here(keys, work, end, late, progress)
    return _forked(keys, work, min(jobs, len(keys)), task_seconds, end, late, progress)


def _here(keys, work, end, late, progress) -> dict:
    out = {}
    for i, key in enumerate(keys):
        if time.monotonic() >= end:
            out[key] = late
            continue
        out[key] = _attempt(work, key)
        if progress:
            progress(i + 1, len(keys))
    return out


def _attempt(work, key):
    try:
        return work(key)
    except Exception as exc:  # noqa: BLE001 - one task's failure is that task's result, never the run's end
        return Failed(f"the check failed ({type(exc).__name__}: {exc})")


class _Worker:
    def __init__(self, context, work):
        self.conn, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child, work), daemon=True)
        self.process.start()
        child.close()
        self.key = None
        self.started = 0.0

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


def _serve(conn, work) -> None:
    """A worker: tasks in, results out, until the parent closes the pipe."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (it kills the workers)
    while True:
        try:
            key = conn.recv()
        except (EOFError, OSError):
            return
        result = _attempt(work, key)
        try:
            conn.send((key, result))
        except (OSError, ValueError):
            return


def _forked(keys, work, jobs, task_seconds, end, late, progress) -> dict:
    context = multiprocessing.get_context("fork")
    pending, out = deque(keys), {}
    workers = [_Worker(context, work) for _ in range(jobs)]
    last = time.monotonic()
    try:
        while pending or any(w.key is not None for w in workers):
            now = time.monotonic()
            if now >= end:
                break
            for w in workers:
                if w.key is None and pending:
                    w.key, w.started = pending.popleft(), now
                    w.conn.send(w.key)
            busy = [w for w in workers if w.key is not None]
            deadline = min([w.started + task_seconds(w.key) for w in busy] + [end])
            wait([w.conn for w in busy] + [w.process.sentinel for w in busy], timeout=max(0.0, deadline - now))
            for i, w in enumerate(workers):
                if w.key is None:
                    continue
                failed = None
                if w.conn.poll():
                    try:
                        key, result = w.conn.recv()
                        out[key], w.key = result, None
                        continue
                    except (EOFError, OSError):
                        failed = Failed("the check stopped unexpectedly (its process died)")
                elif not w.process.is_alive():
                    failed = Failed("the check stopped unexpectedly (its process died)")
                elif time.monotonic() > w.started + task_seconds(w.key):
                    failed = Failed(f"checking took longer than {task_seconds(w.key):g} s")
                if failed is not None:
                    out[w.key] = failed
                    w.stop()
                    workers[i] = _Worker(context, work)
            if progress and time.monotonic() - last > 5:
                last = time.monotonic()
                progress(len(out), len(keys))
    finally:
        for w in workers:
            w.stop()
    for key in keys:
        out.setdefault(key, late)
    return out
