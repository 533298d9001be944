"""The QUESTIONS file of ``chainrule grade``: TOML, one ``[[question]]`` table per question.

    title = "Homework 3: backpropagation"      # optional, heads each student's feedback

    [[question]]
    id = "q1"                                   # how a submission names its answer: a line "q1: …"
    spec = "two_layer_sigmoid"                  # a catalogue name, or a spec file beside this one
    wrt = "W11"                                 # the gradient asked for ("W11", "dW1", "db2" …)
    points = 2
    kind = "steps"                              # optional: a chain graded line by line (else "claim")
    title = "∂L/∂W11 by the chain rule"         # optional

Everything is checked before any submission is read: a bad file is one line naming the question and
the problem (exit status 2).
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass

from derive import ChainruleError
from derive.catalogue import names as catalogue_names

KINDS = ("claim", "steps")
KEYS = ("id", "spec", "wrt", "points", "kind", "title")
TOP_KEYS = ("title", "question")
ID = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")
MAX_QUESTIONS = 200


@dataclass(frozen=True)
class Question:
    id: str
    spec: str  # as written in the file
    source: str  # what ``load_target`` takes: a catalogue name or the spec file's path
    wrt: str
    points: float
    kind: str = "claim"
    title: str = ""

    @property
    def from_file(self) -> bool:
        """Whether the network is a spec file (else a catalogue name)."""
        return is_file_spec(self.spec)

    def heading(self) -> str:
        return f"{self.id}: {self.title}" if self.title else self.id


@dataclass(frozen=True)
class Questions:
    path: str
    title: str
    questions: tuple[Question, ...]

    @property
    def max_points(self) -> float:
        return sum(q.points for q in self.questions)

    def by_id(self) -> dict[str, Question]:
        return {q.id.lower(): q for q in self.questions}


def read_questions(path: str) -> Questions:
    """The questions of ``path``, every field checked; a ``ChainruleError`` naming the place otherwise."""
    if not os.path.exists(path):
        raise ChainruleError("no such questions file", path)
    if not os.path.isfile(path):
        raise ChainruleError("the questions file is not a regular file", path)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(1_000_001)
    except OSError as exc:
        raise ChainruleError(f"cannot read the questions file ({exc.strerror})", path) from None
    if len(raw) > 1_000_000:
        raise ChainruleError("the questions file is too large (at most 1 MB)", path)
    try:
        data = tomllib.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise ChainruleError("the questions file is not UTF-8 text", path) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        found = re.search(r"\(at line (\d+), column \d+\)$", message)
        where = f"{path}:{found.group(1)}" if found else path
        raise ChainruleError(
            f"cannot read the TOML: {message[: found.start()].strip() if found else message}", where
        ) from None
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise ChainruleError(f"unknown key '{unknown[0]}' (the file has 'title' and [[question]] tables)", path)
    title = data.get("title", "")
    if not isinstance(title, str):
        raise ChainruleError("'title' must be text", path)
    tables = data.get("question")
    if not isinstance(tables, list) or not tables:
        raise ChainruleError("no questions: write one [[question]] table per question", path)
    if len(tables) > MAX_QUESTIONS:
        raise ChainruleError(f"too many questions ({len(tables)}; at most {MAX_QUESTIONS})", path)
    folder = os.path.dirname(os.path.abspath(path))
    questions, seen = [], set()
    for number, table in enumerate(tables, 1):
        q = _question(table, number, folder, path)
        if q.id.lower() in seen:
            raise ChainruleError(f"question {number}: the id '{q.id}' is used twice", path)
        seen.add(q.id.lower())
        questions.append(q)
    return Questions(path, title, tuple(questions))


def _question(table, number: int, folder: str, path: str) -> Question:
    def fail(message: str, name: str | None = None):
        label = f"question {number}" + (f" ('{name}')" if name else "")
        raise ChainruleError(f"{label}: {message}", path)

    if not isinstance(table, dict):
        fail("must be a table of keys")
    qid = table.get("id")
    if not isinstance(qid, str) or not ID.match(qid):
        fail("'id' must be a name such as \"q1\" (a letter, then letters, digits or _)")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        fail(f"unknown key '{unknown[0]}' (keys: {', '.join(KEYS)})", qid)
    for key in ("spec", "wrt"):
        if not isinstance(table.get(key), str) or not table[key].strip():
            fail(f"'{key}' must be given, as text", qid)
    points = table.get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not math.isfinite(points) or points <= 0:
        fail("'points' must be a positive number", qid)
    kind = table.get("kind", "claim")
    if kind not in KINDS:
        fail(f"'kind' must be one of {', '.join(repr(k) for k in KINDS)}, not {kind!r}", qid)
    title = table.get("title", "")
    if not isinstance(title, str):
        fail("'title' must be text", qid)
    spec = table["spec"].strip()
    return Question(
        qid, spec, _source(spec, folder, lambda m: fail(m, qid)), table["wrt"].strip(), float(points), kind, title
    )


def _source(spec: str, folder: str, fail) -> str:
    """A catalogue name as it is; a spec file relative to the questions file's folder."""
    if not is_file_spec(spec):
        from derive.verify.optimiser_rules import RULES

        if spec not in catalogue_names() and spec not in RULES:
            fail(
                f"unknown network '{spec}' (a catalogue name, see `chainrule list`, an optimiser: {', '.join(RULES)},"
                " or a spec file ending in .py)"
            )
        return spec
    path = spec if os.path.isabs(spec) else os.path.join(folder, spec)
    if not os.path.isfile(path):
        fail(f"no such spec file '{spec}' (a path is read from the questions file's folder)")
    return path


def is_file_spec(spec: str) -> bool:
    return spec.endswith(".py") or "/" in spec or os.sep in spec
