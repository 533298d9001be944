"""Running a piece of user code in a process of its own, with a time limit that nothing outlives.

``run_in_child(work, seconds)`` forks (cheap: SymPy and derive are already
imported); the child starts a session of its own (so a new process group),
reads an empty standard input (/dev/null), and writes file descriptors 1 and
2 into one pipe that chainrule reads: ``os.write(1, …)``, a C library's
output and an ``atexit`` print are captured as ``print`` is.  ``work(out)``
writes its answer to the file object ``out`` (another pipe); the child then
ends with ``os._exit``, so no ``atexit`` handler, thread or ``finally`` of the
user's runs after it.

At the limit the child receives ``SIGUSR1`` (``work`` may turn it into an
exception that says where the code was); ``GRACE`` seconds later it is killed.
Whichever way it ends, chainrule then kills, with ``SIGKILL``, every process
the child left: its process group and session, and on Linux every process
reparented to chainrule meanwhile (chainrule is a child subreaper while the
child runs, so a double fork or ``start_new_session=True`` does not reach
init), found under /proc.  A child whose parent dies is killed too
(``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import select
import signal
import sys
import time
from dataclasses import dataclass

GRACE = 0.5  # seconds between the limit's SIGUSR1 and SIGKILL
OUTPUT_KEPT = 1 << 16  # bytes of the child's output kept (the rest is read and dropped)
RESULT_MAX = 1 << 28  # bytes of answer accepted (256 MiB)
PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
EXIT_UNCAUGHT = 70  # the child's status when ``work`` itself failed


@dataclass(frozen=True)
class Ended:
    """How the child ended: its answer, its output, its exit status or signal, and whether the limit struck."""

    answer: bytes
    output: bytes
    status: int | None  # exit status, or None when killed by a signal
    signal: int | None
    timed_out: bool
    too_large: bool = False


def run_in_child(work, seconds: float, grace: float = GRACE) -> Ended:
    """Run ``work(out)`` in a forked child under the limits above; how it ended."""
    for stream in (sys.stdout, sys.stderr):  # what is buffered here must not be written twice
        with contextlib.suppress(Exception):
            stream.flush()
    answer_read, answer_write = os.pipe()
    output_read, output_write = os.pipe()
    parent = os.getpid()
    before = _children(parent)
    subreaper = _prctl(PR_SET_CHILD_SUBREAPER, 1)
    pid = os.fork()
    if pid == 0:  # the child: never returns
        _child(work, parent, answer_write, output_write, (answer_read, output_read))
    os.close(answer_write)
    os.close(output_write)
    pipes = _Pipes(answer_read, output_read)
    timed_out = False
    try:
        timed_out = _wait(pid, time.monotonic() + seconds, grace, pipes)
    finally:
        # also on Ctrl-C or an error here: nothing of the child's stays.  The child is reaped last, so that
        # its number (its group's and session's) cannot be taken by another process meanwhile
        _kill_left(pid, before)
        status = _reap(pid)
        if subreaper:
            _prctl(PR_SET_CHILD_SUBREAPER, 0)
        pipes.close()
    code = os.waitstatus_to_exitcode(status)
    return Ended(
        bytes(pipes.answer),
        bytes(pipes.output),
        code if code >= 0 else None,
        -code if code < 0 else None,
        timed_out,
        pipes.too_large,
    )


class _Pipes:
    """The child's two pipes, read as they fill: its answer (all of it, up to RESULT_MAX) and its output
    (the first OUTPUT_KEPT bytes; the rest is read and dropped, so the child never blocks on it)."""

    def __init__(self, answer: int, output: int):
        self.fds = {answer: bytearray(), output: bytearray()}
        self.answer, self.output = self.fds[answer], self.fds[output]
        self.limits = {answer: RESULT_MAX + 1, output: OUTPUT_KEPT}
        self.open = [answer, output]

    @property
    def too_large(self) -> bool:
        return len(self.answer) > RESULT_MAX

    def read(self, fd: int) -> None:
        """Read what is there; stop watching ``fd`` at end of file."""
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            return
        if not chunk:
            self.open.remove(fd)
            return
        buffer = self.fds[fd]
        buffer.extend(chunk[: max(self.limits[fd] - len(buffer), 0)])

    def close(self) -> None:
        """Read what is left (every writer is gone by now), then close."""
        for fd in list(self.open):
            os.set_blocking(fd, False)
            with contextlib.suppress(OSError):
                while fd in self.open and select.select([fd], [], [], 0.2)[0]:
                    self.read(fd)
        for fd in self.fds:
            os.close(fd)


def _child(work, parent: int, answer: int, output: int, unused: tuple[int, ...]) -> None:
    code = EXIT_UNCAUGHT
    try:
        for fd in unused:
            os.close(fd)
        os.setsid()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:  # chainrule died before the line above
            os._exit(code)
        for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGPIPE", "SIGALRM"):
            signal.signal(getattr(signal, name), signal.SIG_DFL)
        signal.setitimer(signal.ITIMER_REAL, 0)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output, 1)
        os.dup2(output, 2)
        for fd in (null, output):
            os.close(fd)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 - for the life of the child
        sys.stdout = io.TextIOWrapper(open(1, "wb", closefd=False), encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
        sys.stderr = io.TextIOWrapper(open(2, "wb", closefd=False), encoding="utf-8", errors="backslashreplace")  # noqa: SIM115
        sys.stderr.reconfigure(line_buffering=True)
        with open(answer, "wb") as out:
            work(out)
        code = 0
    except BaseException:  # noqa: BLE001 - the child ends here whatever happened; the parent reports it
        code = EXIT_UNCAUGHT
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(BaseException):
                stream.flush()
        os._exit(code)


def _wait(pid: int, deadline: float, grace: float, pipes: _Pipes) -> bool:
    """Read the child's pipes until it exits (left unreaped) or the limit and the grace after it are over;
    whether the limit struck."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    timed_out = False
    try:
        while True:
            if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return timed_out
            now = time.monotonic()
            if now >= deadline and not timed_out:
                timed_out = True
                deadline = now + grace
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGUSR1)  # the child says where it was, if it still can
                continue
            if now >= deadline or pipes.too_large:
                return timed_out
            watched = pipes.open + ([pidfd] if pidfd is not None else [])
            for fd in select.select(watched, [], [], min(deadline - now, 1.0 if pidfd is not None else 0.02))[0]:
                if fd != pidfd:
                    pipes.read(fd)
    finally:
        if pidfd is not None:
            os.close(pidfd)


def _reap(pid: int) -> int:
    """The child's wait status, once it has ended (killed first if it still runs)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)  # a zombie (it has exited) ignores it
    with contextlib.suppress(ChildProcessError):
        return os.waitpid(pid, 0)[1]
    return signal.SIGKILL


def _kill_left(pid: int, before: set[int]) -> None:
    """SIGKILL every process the child left, until none is left (a fork in flight shows up on the next round)."""
    me = os.getpid()
    for _ in range(200):
        table = _processes()
        victims = _left(pid, before, me, table)
        if table is None:  # no /proc: the child's process group is all that can be found
            with contextlib.suppress(OSError):
                os.killpg(pid, signal.SIGKILL)
            return
        alive = [p for p in victims if table[p][3] != "Z"]
        for p in alive:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
        for p in victims:  # the dead reparented to chainrule are reaped here
            if p != pid and table[p][0] == me:
                with contextlib.suppress(ChildProcessError):
                    os.waitpid(p, os.WNOHANG)
        if not alive:
            return
        time.sleep(0.005)


def _left(pid: int, before: set[int], me: int, table) -> list[int]:
    """The child, what descends from it, what shares its session or group, and what became chainrule's
    child since the fork (reparented orphans), with their descendants."""
    if table is None:
        return []
    kids: dict[int, list[int]] = {}
    for p, (ppid, _, _, _) in table.items():
        kids.setdefault(ppid, []).append(p)
    roots = {pid} | {p for p, (ppid, _, _, _) in table.items() if ppid == me and p not in before}
    roots |= {p for p, (_, group, session, _) in table.items() if pid in (group, session)}
    found, todo = set(), list(roots)
    while todo:
        p = todo.pop()
        if p in found or p == me or p not in table:
            continue
        found.add(p)
        todo.extend(kids.get(p, ()))
    return sorted(found)


def _processes() -> dict[int, tuple[int, int, int, str]] | None:
    """pid -> (parent, process group, session, state) for every process, from /proc (None without it)."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    table = {}
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # gone meanwhile
        fields = stat[stat.rfind(b")") + 2 :].split()
        table[int(entry)] = (int(fields[1]), int(fields[2]), int(fields[3]), fields[0].decode())
    return table


def _children(pid: int) -> set[int]:
    table = _processes() or {}
    return {p for p, (ppid, _, _, _) in table.items() if ppid == pid}


def _prctl(option: int, value: int) -> bool:
    """``prctl(option, value)`` on Linux; False elsewhere or when refused."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
