"""Compiling a handout with the real toolchain from TeX Live: pdflatex from a format holding the handout's
preamble (``latex_format``: the packages loaded once) run as many times as the cross-references need;
where there is no such format, latexmk when present, else the engine (pdflatex, lualatex or xelatex) run
as many times as the cross-references need.

The build runs in a temporary folder, from the LaTeX text under a safe name (``handout.tex``: a file
name with ``%``, ``~``, ``$`` or a leading ``-`` never reaches LaTeX); only the PDF comes out.  A
failure raises ``LatexFailed`` with the first error of the log and its line in the ``.tex``.  Ctrl-C,
SIGTERM or SIGHUP during a build stops LaTeX (its whole process group) and removes the folder.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from derive import ChainruleError

from ..emit.files import signals_raise, write_atomic
from .latex_format import format_for

TIMEOUT_S = 300
ENGINES = ("pdflatex", "lualatex", "xelatex")
LATEXMK_FLAG = {"pdflatex": "-pdf", "lualatex": "-pdflua", "xelatex": "-pdfxe"}
MAX_RUNS = 5  # without latexmk: rerun while the log asks for it, at most this often
_RERUN = re.compile(r"Rerun to get (?:cross-references|outlines) right|Label\(s\) may have changed\. Rerun|Rerun LaTeX")
_FILE_LINE = re.compile(r"^(?:\./)?[^:\n]*\.tex:(\d+): (.*)$", re.MULTILINE)
_BANG = re.compile(r"^! (.*)$", re.MULTILINE)
_LINE = re.compile(r"^l\.(\d+)", re.MULTILINE)
_OVERFULL = re.compile(r"^Overfull \\[hv]box \(([\d.]+)pt too (?:wide|high)\)(.*)$", re.MULTILINE)


@dataclass(frozen=True)
class Build:
    pdf: Path
    log: str
    runs: int = 1  # LaTeX runs (1 when latexmk ran them)

    def overfull(self) -> list[tuple[float, str]]:
        """Every overfull box in the log: (points too wide, where)."""
        return [(float(m.group(1)), m.group(2).strip()) for m in _OVERFULL.finditer(self.log)]


def available(engine: str = "pdflatex") -> bool:
    """Whether the LaTeX engine is installed."""
    return shutil.which(engine) is not None


def first_error(log: str) -> tuple[str, int | None]:
    """The first error in a LaTeX log and its line in the source (None when the log gives none)."""
    m = _FILE_LINE.search(log)
    bang = _BANG.search(log)
    if m and (not bang or m.start() <= bang.start()):
        return m.group(2).strip(), int(m.group(1))
    if bang:
        line = _LINE.search(log, bang.end())
        return bang.group(1).strip(), int(line.group(1)) if line else None
    return "LaTeX stopped without an error message (see its log)", None


class LatexFailed(ChainruleError):
    """LaTeX stopped with an error (its first error, at the line of the .tex)."""


@dataclass(frozen=True)
class Built:
    """A PDF built from LaTeX text: its bytes, the log, the LaTeX runs."""

    pdf: bytes
    log: str
    runs: int = 1


def compile_pdf(tex_path: str | os.PathLike, engine: str = "pdflatex") -> Build:
    """Compile ``tex_path`` to a PDF beside it; ChainruleError naming the first LaTeX error on failure."""
    tex_path = Path(tex_path)
    built = compile_text(tex_path.read_text(encoding="utf-8"), engine, str(tex_path))
    target = tex_path.with_suffix(".pdf")
    write_atomic(str(target), built.pdf)
    return Build(target, built.log, built.runs)


def compile_text(tex: str, engine: str = "pdflatex", where: str = "handout.tex") -> Built:
    """The PDF of the LaTeX text ``tex``, built in a temporary folder; errors are reported at ``where``
    (the .tex the text is for) and the line."""
    if engine not in ENGINES:
        raise ChainruleError(f"unknown LaTeX engine '{engine}' (engines: {', '.join(ENGINES)})", "--engine")
    if not available(engine):
        raise ChainruleError(f"--pdf needs {engine} (TeX Live); install it with: bash scripts/setup.sh", where)
    flags = ["-interaction=nonstopmode", "-halt-on-error", "-file-line-error"]
    with signals_raise(), tempfile.TemporaryDirectory(prefix="chainrule-latex-") as tmp:
        work = Path(tmp) / SAFE_NAME
        work.write_text(tex, encoding="utf-8")
        log_path = work.with_suffix(".log")
        fmt = format_for(tex, engine)
        if fmt is not None:  # the preamble already loaded (latex_format); reruns as the references need
            commands = [[engine, f"-fmt={fmt}", *flags, work.name]] * MAX_RUNS
        elif shutil.which("latexmk"):
            commands = [["latexmk", LATEXMK_FLAG[engine], *flags, work.name]]
        else:  # rerun while LaTeX asks for it (references, the table of contents), a bounded number of times
            commands = [[engine, *flags, work.name]] * MAX_RUNS
        runs = 0
        for command in commands:
            returncode, output = _run(command, tmp, where)
            runs += 1
            log = log_path.read_text(encoding="latin-1") if log_path.exists() else output
            if returncode != 0 or not _RERUN.search(log):
                break
        pdf = work.with_suffix(".pdf")
        if returncode != 0 or not pdf.exists():
            message, line = first_error(log)
            raise LatexFailed(f"LaTeX failed: {message}", f"{where}:{line}" if line else where)
        return Built(pdf.read_bytes(), log, runs)


SAFE_NAME = "handout.tex"  # the name LaTeX sees, whatever the output is called


def _run(command: list[str], folder: str, where: str) -> tuple[int, str]:
    """Run a LaTeX tool in a session of its own; on a timeout, Ctrl-C or SIGTERM its whole group is killed."""
    process = subprocess.Popen(
        command,
        cwd=folder,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        _kill(process)
        raise ChainruleError(f"LaTeX did not finish within {TIMEOUT_S} s", where) from None
    except BaseException:
        _kill(process)
        raise
    return process.returncode, output


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(OSError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
