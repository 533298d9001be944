"""A handout's preamble, loaded once: a pdfLaTeX format dumped from it and cached, so that each later build
starts with its packages in memory (``pdflatex -fmt``).

Loading the preamble (tikz, pgfplots, beamer) is 40-50 % of a handout's or a deck's LaTeX run, and every
document is built twice (its cross-references): with the format a handout's run takes 0.32 s instead of
0.55 s, a deck's 0.77 s instead of 1.2 s.  This is what mylatexformat does, without needing it: the
format is the preamble followed by ``\\dump``, and in it ``\\documentclass`` skips the document's own
preamble up to ``\\begin{document}`` (the file is still read from its first line, so an error's line
number is the line of the ``.tex``).

The formats live in ``$CHAINRULE_CACHE_DIR`` (else ``$XDG_CACHE_HOME/chainrule``, else
``~/.cache/chainrule``) under ``latex/``, named by a hash of the preamble and of the TeX installation
(the engine and its own format file, so an update of TeX Live makes new ones).  Where the folder cannot be
written, the preamble has a ``\\begin`` of its own (outside a definition), or the format does not build, the document is built
the ordinary way; nothing here ever makes a build fail.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

BEGIN = "\\begin{document}"
# in the format: a document's \documentclass and preamble, already loaded, are skipped to its \begin{document}
_SKIP = "\\long\\def\\documentclass#1\\begin#2{\\begin{document}}\n"
# the engines whose formats are used, and the TeX engine kpsewhich knows each by (LuaTeX and XeTeX load
# their fonts at run time: a format would not hold them)
TEX_ENGINE = {"pdflatex": "pdftex"}
BUILD_TIMEOUT_S = 120


def cache_dir() -> Path:
    """Where the formats are kept (the folder may not exist yet)."""
    root = os.environ.get("CHAINRULE_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache"), "chainrule"
    )
    return Path(root) / "latex"


def format_for(tex: str, engine: str = "pdflatex") -> str | None:
    """The path of a format holding ``tex``'s preamble (built now if it is not cached), or None when the
    document is to be built without one."""
    if engine not in TEX_ENGINE:
        return None
    preamble, found, _ = tex.partition(BEGIN)
    if not found or "\\dump" in preamble or "\\documentclass" not in preamble or _begins_outside_braces(preamble):
        return None
    installation = _installation(engine)
    if installation is None:
        return None
    key = hashlib.sha256(f"{installation}\n{preamble}".encode()).hexdigest()[:24]
    path = cache_dir() / f"{engine}-{key}.fmt"
    if path.is_file():
        return str(path)
    return _build(engine, preamble, path)


def _begins_outside_braces(preamble: str) -> bool:
    """Whether ``preamble`` has a ``\\begin`` outside braces (in a definition it is inside them), where the
    skipping ``\\documentclass`` would stop too early."""
    depth, i = 0, 0
    while i < len(preamble):
        c = preamble[i]
        if c == "\\":
            if depth == 0 and preamble.startswith("\\begin", i):
                return True
            i += 2  # an escaped character (\\{, \\%) or the first letter of a command
            continue
        if c == "%":
            i = preamble.find("\n", i)
            if i < 0:
                break
        elif c == "{":
            depth += 1
        elif c == "}":
            depth = max(depth - 1, 0)
        i += 1
    return False


@functools.cache
def _installation(engine: str) -> str | None:
    """What identifies the TeX installation: the engine's path and the size and time of it and its format."""
    binary = shutil.which(engine)
    if binary is None:
        return None
    try:
        base = subprocess.run(
            ["kpsewhich", f"-engine={TEX_ENGINE[engine]}", f"{engine}.fmt"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout.strip()
        files = [os.path.realpath(binary), base] if base else [os.path.realpath(binary)]
        return "\n".join(f"{f} {os.stat(f).st_size} {os.stat(f).st_mtime_ns}" for f in files)
    except (OSError, subprocess.SubprocessError):
        return None


def _build(engine: str, preamble: str, path: Path) -> str | None:
    """Dump the format for ``preamble`` into ``path`` (atomically: builds running at once each make their own
    and the last one wins); None when that fails."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="chainrule-format-", dir=path.parent) as tmp:
            source = Path(tmp) / "preamble.tex"
            source.write_text(preamble + _SKIP + "\\dump\n", encoding="utf-8")
            done = subprocess.run(
                [
                    engine,
                    "-ini",
                    "-interaction=batchmode",
                    "-halt-on-error",
                    "-jobname=preamble",
                    f"&{engine}",
                    source.name,
                ],
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=BUILD_TIMEOUT_S,
                check=False,
            )
            built = Path(tmp) / "preamble.fmt"
            if done.returncode != 0 or not built.is_file():
                return None
            os.replace(built, path)
        return str(path)
    except (OSError, subprocess.SubprocessError):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
