"""The SUBMISSIONS folder of ``chainrule grade``: one student per file (or per sub-folder).

A file ``alice.txt`` (``.md``, ``.tex``) is the student ``alice``; a sub-folder ``bob/`` is the student
``bob``, and its text files are read in name order, as one.  In them a line ``q1: …`` answers question
q1, in text or in ``$…$`` LaTeX (also ``- q1: …``, ``**q1:** …``, ``\\item q1: …``); several ``q1:``
lines are a chain of steps, in order; every other line is ignored.

Nothing here stops the run: a file that cannot be read (binary, not UTF-8, over 1 MB, not a regular
file, not a text suffix) makes that student's every answer ``unreadable``, with the reason.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from derive import ChainruleError

from .. import textfiles

SUFFIXES = (".txt", ".md", ".tex")
MAX_BYTES = 1_000_000
LABEL = re.compile(
    r"^\s*(?:[-*+>]\s+|\\item\s+|\d+[.)]\s+)?(?:\*\*|__)?\s*([A-Za-z][A-Za-z0-9_]*)\s*(?:\*\*|__)?\s*:(?!=)\s*(?:\*\*|__)?\s*(.*)$"
)
_DELIMITERS = (("$$", "$$"), ("\\[", "\\]"), ("\\(", "\\)"), ("$", "$"), ("`", "`"))


@dataclass(frozen=True)
class Line:
    file: str  # relative to the submissions folder
    number: int
    formula: str

    def place(self, several_files: bool) -> str:
        return f"{self.file}:{self.number}" if several_files else f"line {self.number}"


@dataclass
class Submission:
    student: str
    files: tuple[str, ...]  # the paths read (relative to the folder)
    answers: dict[str, list[Line]] = field(default_factory=dict)  # question id → its lines, in order
    problem: str | None = None  # why it cannot be read: then every answer is "unreadable"


def read_folder(folder: str, ids: list[str]) -> list[Submission]:
    """Every student of ``folder``, sorted by name; a ``ChainruleError`` when the folder itself is bad."""
    if not os.path.exists(folder):
        raise ChainruleError("no such submissions folder", folder)
    if not os.path.isdir(folder):
        raise ChainruleError("the submissions folder is a file, not a folder", folder)
    try:
        entries = sorted(e for e in os.listdir(folder) if not _skipped(e))
    except OSError as exc:
        raise ChainruleError(f"cannot read the submissions folder ({exc.strerror})", folder) from None
    students: dict[str, list[str]] = {}
    for entry in entries:
        path = os.path.join(folder, entry)
        name = entry if os.path.isdir(path) else os.path.splitext(entry)[0]
        students.setdefault(name, []).append(entry)
    if not students:
        raise ChainruleError("no submissions in the folder (one .txt, .md or .tex file per student)", folder)
    return [_student(folder, name, found, ids) for name, found in sorted(students.items())]


def read_one(folder: str, ids: list[str], student: str = "submission") -> Submission:
    """All the text files of ``folder`` as one student's submission (a Gradescope upload)."""
    if not os.path.isdir(folder):
        raise ChainruleError("no such submission folder", folder)
    return _files(folder, student, _text_files(folder, ""), ids)


def _skipped(entry: str) -> bool:
    return entry.startswith(".") or entry.endswith("~") or entry == "__MACOSX"


def _student(folder: str, name: str, found: list[str], ids: list[str]) -> Submission:
    if len(found) > 1:
        return Submission(name, tuple(found), problem=f"more than one submission ({', '.join(found)}): keep one")
    entry = found[0]
    path = os.path.join(folder, entry)
    if os.path.isdir(path):
        files = _text_files(path, entry)
        if not files:
            return Submission(name, (entry,), problem=f"no .txt, .md or .tex file in the folder '{entry}'")
        return _files(folder, name, files, ids)
    return _files(folder, name, [entry], ids)


def _text_files(path: str, prefix: str) -> list[str]:
    try:
        names = sorted(e for e in os.listdir(path) if not _skipped(e))
    except OSError:
        return []
    return [os.path.join(prefix, e) if prefix else e for e in names if os.path.splitext(e)[1].lower() in SUFFIXES]


def _files(folder: str, name: str, files: list[str], ids: list[str]) -> Submission:
    sub = Submission(name, tuple(files))
    wanted = {i.lower(): i for i in ids}
    for rel in files:
        text, problem = read_text(os.path.join(folder, rel))
        if problem:
            sub.problem = f"{rel}: {problem}"
            sub.answers = {}
            return sub
        for number, line in enumerate(text.splitlines(), 1):
            match = LABEL.match(line)
            if not match or match.group(1).lower() not in wanted:
                continue
            formula = answer_text(match.group(2))
            if formula:
                sub.answers.setdefault(wanted[match.group(1).lower()], []).append(Line(rel, number, formula))
    return sub


def read_text(path: str) -> tuple[str, str | None]:
    """(the text, None) or ("", why it cannot be read): a text suffix, and ``textfiles.read_text``."""
    if os.path.splitext(path)[1].lower() not in SUFFIXES:
        return "", f"not a .txt, .md or .tex file ({os.path.basename(path)})"
    return textfiles.read_text(path, MAX_BYTES)


def answer_text(raw: str) -> str:
    """The formula of an answer line: markdown's backticks and LaTeX's math delimiters taken off (a
    formula that was in ``$…$`` keeps one pair, so that it is read as LaTeX)."""
    text = raw.strip()
    text = re.sub(r"\s*\\\\$", "", text)  # a LaTeX line break
    text = re.sub(r"(\$|\\\]|\\\))\s*[.,;]$", r"\1", text)  # the full stop after a displayed formula
    for left, right in _DELIMITERS:
        if len(text) > len(left) + len(right) and text.startswith(left) and text.endswith(right):
            inner = text[len(left) : -len(right)].strip()
            return inner if left == "`" else f"${inner}$"
    return text
