"""The packages of chainrule's handouts and decks, loaded once: a pdfLaTeX format dumped from them and
cached, so that each later build starts with them in memory (``pdflatex -fmt``).

Loading the packages (tikz, pgfplots, beamer) is 40-50 % of a handout's or a deck's LaTeX run, and every
document is built twice (its cross-references): with the format a handout's run takes 0.32 s instead of
0.55 s, a deck's 0.77 s instead of 1.2 s.  This is what mylatexformat does, without needing it.

chainrule's templates write ``MARK_LINE`` after the packages.  The format is what is above it (comments
aside, so every handout with the same packages shares one: four formats in all) followed by ``\\dump``; in
the format ``\\documentclass`` skips a document's packages up to the mark, and the rest of its preamble (the
title, its definitions) is read as usual.  The file is still read from its first line, so an error's line
number is the line of the ``.tex``.

The formats live in ``$CHAINRULE_CACHE_DIR`` (else ``$XDG_CACHE_HOME/chainrule``, else
``~/.cache/chainrule``) under ``latex/``, named by a hash of the packages and of the TeX installation (the
engine and its own format file, so an update of TeX Live makes new ones).  A document without the mark (one
not written by chainrule) is built the ordinary way, and so is any document when the folder cannot be
written or the format does not build: nothing here ever makes a build fail.
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

# the line chainrule's templates write after the packages: what is above it goes into the format; what is below it
# (the title, the document's own definitions) is read from the document at every build
MARK_LINE = "\\newcommand{\\chainruleformatend}{}\\chainruleformatend"
# in the format: a document's \documentclass and packages, already loaded, are skipped up to the mark
SKIP = "\\long\\def\\documentclass#1\\chainruleformatend{}\n"
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
    """The path of a format holding the packages ``tex`` loads above its ``MARK_LINE`` (built now if it is not
    cached), or None when the document is to be built without one."""
    if engine not in TEX_ENGINE:
        return None
    lines = tex.splitlines()
    if MARK_LINE not in lines:
        return None
    head = lines[: lines.index(MARK_LINE)]
    # comments aside (a handout's first lines name it and hash it): every handout shares its format
    packages = "".join(f"{line}\n" for line in head if not line.lstrip().startswith("%"))
    if "\\dump" in packages or "\\begin{document}" in packages or not packages.startswith("\\documentclass"):
        return None
    installation = _installation(engine)
    if installation is None:
        return None
    key = hashlib.sha256(f"{installation}\n{packages}".encode()).hexdigest()[:24]
    path = cache_dir() / f"{engine}-{key}.fmt"
    if path.is_file():
        return str(path)
    return _build(engine, packages, path)


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
            source.write_text(preamble + SKIP + "\\dump\n", encoding="utf-8")
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
