"""A spec file: the user's own Python, which declares a network, run in a process of its own with limits.

``load_file(path, seconds)`` runs the file in a forked child
(``derive.spec.process``): no standard input, its output (file descriptors 1
and 2) captured, a time limit that kills it and everything it started (threads,
forks, subprocesses in sessions of their own).  The network comes back as plain
data (``derive.spec.transport``), is built again here, and its names are
checked again (``derive.names.check_declared``).  Whatever else the file does
(raises, calls ``sys.exit`` or ``os._exit``, prints, reads input, never ends,
is killed) is bad input: one ``ChainruleError`` naming the problem and the
file's line where one is known.

The limits are not a sandbox: until its time is up a spec can do what the
user can (read and write files, start programs).
"""

from __future__ import annotations

import contextlib
import os
import runpy
import signal
import sys
import traceback
import warnings

from ..errors import ChainruleError, DeclarationError, signals_raise
from ..ir.network import VecNetwork
from ..names import check_declared
from ..unit.network import Network
from . import transport
from .process import RESULT_MAX, run_in_child

SECONDS = 30.0  # the time a spec file may take to declare its network
SECONDS_VARIABLE = "CHAINRULE_SPEC_SECONDS"  # overrides it (the tests use a short limit)


class TimedOut(BaseException):  # not an Exception: the spec's ``except Exception`` does not swallow it
    """The limit struck while the spec ran (raised in the child by SIGUSR1)."""


def seconds() -> float:
    try:
        value = float(os.environ.get(SECONDS_VARIABLE, SECONDS))
    except ValueError:
        return SECONDS
    return value if value > 0 else SECONDS


def load_file(spec: str, limit: float | None = None) -> Network | VecNetwork:
    """The network a spec file declares (``network = …``, or ``build()``), run as the module says."""
    limit = seconds() if limit is None else limit
    with signals_raise():  # SIGTERM or SIGHUP here: the spec's processes are killed too, then chainrule stops
        ended = run_in_child(lambda out: _declare(spec, out), limit)
    answer = _answer(ended.answer)
    if ended.timed_out:
        where = answer.get("where") if answer.get("kind") == "timeout" else spec
        raise ChainruleError(f"the spec did not finish within {limit:g} s (a loop that never ends?)", where)
    if answer.get("kind") in ("error", "declaration"):
        kind = DeclarationError if answer["kind"] == "declaration" else ChainruleError
        raise kind(answer["message"], answer.get("where"))
    printed = ended.output.decode("utf-8", "backslashreplace").strip()
    if printed:
        first = printed.splitlines()[0]
        raise ChainruleError(f"the spec printed {first[:60]!r}; a spec declares a network and prints nothing", spec)
    if ended.too_large:
        raise ChainruleError(f"the network is larger than {RESULT_MAX >> 20} MiB as data", spec)
    if "network" not in answer:
        raise ChainruleError(_abnormal(ended), spec)
    network = answer["network"]
    if not isinstance(network, (Network, VecNetwork)):
        raise ChainruleError("the spec defines no 'network' (a derive.Network or derive.VecNetwork)", spec)
    check_declared(network)
    return network


def _answer(data: bytes) -> dict:
    """The child's answer; {} when it sent none (it ended early) or something else."""
    if not data:
        return {}
    try:
        answer = transport.loads(data)
    except ValueError as exc:
        message = f"the network could not be read back from the spec's process ({exc})"
        return {"kind": "error", "message": message, "where": None}
    if not isinstance(answer, dict) or not isinstance(answer.get("message", ""), str):
        return {}
    return answer


def _abnormal(ended) -> str:
    if ended.signal is not None:
        try:
            name = signal.Signals(ended.signal).name
        except ValueError:
            name = f"signal {ended.signal}"
        return f"the spec's process was killed by {name} before it declared a network"
    return (
        f"the spec's process ended with exit status {ended.status} before it declared a network "
        "(os._exit, or a crash); a spec declares a network and returns"
    )


def _at(spec: str, line) -> str:
    return f"{spec}:{line}" if isinstance(line, int) else spec


# ---------------------------------------------------------------- in the child
def _declare(spec: str, out) -> None:
    """Run the spec and write the answer: ``{"network": …}``, or ``{"kind", "message", "line"}``."""

    def stop(signum, frame):
        raise TimedOut()

    signal.signal(signal.SIGUSR1, stop)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a warning is not output: the derivation warns again here
            namespace = runpy.run_path(spec, run_name="__chainrule_spec__")
            network = namespace.get("network")
            if network is None and callable(namespace.get("build")):
                network = namespace["build"]()
        answer = {"network": network if isinstance(network, (Network, VecNetwork)) else None}
        data = transport.dumps(answer)
    except BaseException as exc:  # noqa: BLE001 - the spec is user code: every way it fails is one line
        data = transport.dumps(_failure(exc, spec))
    for stream in (sys.stdout, sys.stderr):  # what the spec printed reaches the capture (whatever it made of them)
        with contextlib.suppress(Exception):
            stream.flush()
    signal.signal(signal.SIGUSR1, signal.SIG_IGN)  # the answer is written whole, or not at all
    out.write(data.encode("ascii"))


def _failure(exc: BaseException, spec: str) -> dict:
    """The answer for a spec that failed: kind, message and place."""
    where = _at(spec, _spec_line(exc, spec))
    if isinstance(exc, TimedOut):
        return {"kind": "timeout", "where": where}
    if isinstance(exc, ChainruleError):
        kind = "declaration" if isinstance(exc, DeclarationError) else "error"
        return {"kind": kind, "message": exc.message, "where": exc.where or where}
    if isinstance(exc, SyntaxError):
        lineno = exc.lineno if isinstance(exc.lineno, int) else _nul_line(spec)
        return {
            "kind": "error",
            "message": f"syntax error in the spec: {one_line(exc.msg)}",
            "where": _at(spec, lineno),
        }
    if isinstance(exc, SystemExit):
        message = f"the spec called sys.exit({exc.code!r}); a spec declares a network and returns"
        return {"kind": "error", "message": message, "where": where}
    message = one_line(str(exc))
    return {"kind": "error", "message": f"the spec raised {type(exc).__name__}: {message:.300}", "where": where}


def _nul_line(spec: str) -> int | None:
    """The line of the first NUL byte in the file (Python names none when it refuses one)."""
    try:
        with open(spec, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    at = data.find(b"\0")
    return data.count(b"\n", 0, at) + 1 if at >= 0 else None


def one_line(text: str) -> str:
    return " ".join(str(text).split())


def _spec_line(exc: BaseException, spec: str) -> int | None:
    target = os.path.abspath(spec)
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if os.path.abspath(frame.filename) == target:
            line = frame.lineno
    return line
