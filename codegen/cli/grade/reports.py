"""What ``chainrule grade`` writes: ``grades.csv``, ``grades.json``, ``feedback/STUDENT.md``, and the
summary table on stdout.  Deterministic: students sorted by name, questions in the file's order, slips
by their short names, no times or dates."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import dataclass

from .checking import LineResult, Outcome
from .questions import Question, Questions
from .submissions import Submission

CSV_COLUMNS = ("student", "question", "points", "max_points", "verdict", "slip")
VERDICTS = ("holds", "wrong", "unreadable", "missing")
FORMAT = 1


@dataclass(frozen=True)
class Grade:
    student: str
    question: Question
    outcome: Outcome
    lines: tuple  # the submission's Line objects (file, number, formula) for this answer

    @property
    def points(self) -> float:
        return round(self.question.points * self.outcome.fraction, 2)


def number(x: float) -> str:
    """Points as a table shows them: ``2``, ``1.5``, ``0.67``."""
    return f"{round(x, 2):g}"


def grades_csv(grades: list[Grade]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for g in grades:
        writer.writerow(
            (g.student, g.question.id, number(g.points), number(g.question.points), g.outcome.verdict, g.outcome.slip)
        )
    return out.getvalue()


def grades_json(questions: Questions, submissions: list[Submission], grades: list[Grade]) -> str:
    by_student: dict[str, list[Grade]] = {}
    for g in grades:
        by_student.setdefault(g.student, []).append(g)
    data = {
        "format": FORMAT,
        "generator": "chainrule grade",
        "title": questions.title,
        "questions": [
            {"id": q.id, "title": q.title, "spec": q.spec, "wrt": q.wrt, "kind": q.kind, "points": q.points}
            for q in questions.questions
        ],
        "students": [
            {
                "student": s.student,
                "files": list(s.files),
                "problem": s.problem,
                "points": round(sum(g.points for g in by_student[s.student]), 2),
                "max_points": questions.max_points,
                "answers": [_answer_json(g) for g in by_student[s.student]],
            }
            for s in submissions
        ],
        "summary": summary_data(questions, grades),
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def _answer_json(g: Grade) -> dict:
    o = g.outcome
    return {
        "question": g.question.id,
        "points": g.points,
        "max_points": g.question.points,
        "verdict": o.verdict,
        "slip": o.slip,
        "hint": o.hint,
        "reason": o.reason,
        "first_wrong_line": None if o.first_wrong is None else _place(g, o.first_wrong),
        "lines": [
            {
                "line": _place(g, i),
                "formula": line.formula,
                "verdict": line.verdict,
                "target": line.target,
                "follows": line.follows,
                "derived": line.derived,
                "hint": line.hint,
                "reason": line.reason,
                "note": line.note,
                "counterexample": line.counterexample,
            }
            for i, line in enumerate(o.lines)
        ],
    }


def _place(g: Grade, index: int):
    """The line number in the student's file (``file:line`` when the submission is several files)."""
    if index >= len(g.lines):
        return None
    line = g.lines[index]
    files = {x.file for x in g.lines}
    return line.number if len(files) == 1 else f"{line.file}:{line.number}"


# ---------------------------------------------------------------------- feedback
def feedback_md(questions: Questions, submission: Submission, grades: list[Grade]) -> str:
    """One student's feedback, worded for the student: per question the verdict and points, the first
    wrong line, the slip named and a counterexample."""
    total = sum(g.points for g in grades)
    title = questions.title or "Feedback"
    out = [
        f"# {title}: {submission.student}",
        "",
        f"**Total: {number(total)} of {number(questions.max_points)} points**",
    ]
    if submission.problem:
        out += ["", f"Your submission could not be read: {submission.problem}."]
    for g in grades:
        if submission.problem:
            out += ["", question_md(g)[0], "", "Not graded: your submission could not be read (see above)."]
        else:
            out += ["", *question_md(g)]
    return "\n".join(out).rstrip() + "\n"


_VERDICT_WORDS = {
    "holds": "correct",
    "wrong": "not correct",
    "unreadable": "could not be read",
    "missing": "no answer found",
}


def question_md(g: Grade) -> list[str]:
    q, o = g.question, g.outcome
    out = [f"## {q.heading()} ({number(g.points)} of {number(q.points)} points): {_VERDICT_WORDS[o.verdict]}", ""]
    if o.verdict == "missing":
        out.append(f"No line starting with `{q.id}:` was found. Write your answer on a line `{q.id}: …`.")
        return out
    if o.verdict == "unreadable":
        out.append(f"It could not be read: {o.reason}.")
        if o.lines:
            out.append(f"Your answer: `{_code(o.lines[0].formula)}`")
        return out
    for i, line in enumerate(o.lines):
        out.append(f"- {_where(g, i)}: `{_code(line.formula)}` {_mark(line)}")
    if o.verdict == "holds":
        notes = [line.note for line in o.lines if line.note]
        out += ["", "Every line agrees with the derivation." + (f" Note: {notes[0]}." if notes else "")]
        return out
    first = o.lines[o.first_wrong] if o.first_wrong is not None and o.first_wrong < len(o.lines) else None
    out.append("")
    if first is None:
        out.append(f"Every line holds, but none of them is the gradient asked for ({q.wrt}): finish the derivation.")
    elif first.verdict == "unreadable":
        out.append(
            f"The first line that is not right is {_where(g, o.first_wrong)}: it could not be read ({first.reason})."
        )
    else:
        out.append(f"The first line that is not right is {_where(g, o.first_wrong)}.")
        if o.hint:
            out.append(f"Likely slip: {o.hint}.")
        if first.counterexample:
            out.append(f"Counterexample: {_counterexample(first.counterexample)}.")
    if q.kind == "steps" and o.fraction > 0:
        out.append(f"Partial credit for the lines before it: {number(g.points)} of {number(q.points)} points.")
    return out


def _where(g: Grade, index: int) -> str:
    place = _place(g, index)
    return f"line {place}" if isinstance(place, int) else str(place)


def _mark(line: LineResult) -> str:
    if line.verdict == "holds":
        return "holds" + ("" if line.follows is not False else " (but does not follow from the line before)")
    return "does not hold" if line.verdict == "wrong" else "cannot be read"


def _code(text: str) -> str:
    return text.replace("`", "'")


def _counterexample(ce: dict) -> str:
    point = ", ".join(f"{k} = {_value(v)}" for k, v in ce["point"].items())
    note = f" ({ce['note']})" if ce.get("note") else ""
    claimed, true = ce["claimed"], _value(ce["true"])
    if isinstance(claimed, str) and claimed.startswith("error ("):  # a shape error: no value at all
        return f"at {point}, your formula cannot be evaluated {claimed[len('error ') :]}; the derivation has {true}"
    if isinstance(claimed, str) and claimed.startswith("shape"):
        return f"at {point}, your formula has {claimed}, the derivation {true}"
    return f"at {point}, your formula gives {_value(claimed)} but the derivation gives {true}{note}"


def _value(v) -> str:
    if isinstance(v, float):
        return f"{v:.6g}"
    return "undefined" if v is None else str(v)


# ---------------------------------------------------------------------- summary
def summary_data(questions: Questions, grades: list[Grade]) -> list[dict]:
    out = []
    for q in questions.questions:
        mine = [g for g in grades if g.question.id == q.id]
        verdicts = Counter(g.outcome.verdict for g in mine)
        slips = Counter(g.outcome.slip for g in mine if g.outcome.slip)
        out.append(
            {
                "question": q.id,
                "max_points": q.points,
                "students": len(mine),
                **{v: verdicts.get(v, 0) for v in VERDICTS},
                "mean_points": round(sum(g.points for g in mine) / len(mine), 2) if mine else 0.0,
                "slips": [{"slip": s, "count": n} for s, n in sorted(slips.items(), key=lambda kv: (-kv[1], kv[0]))],
            }
        )
    return out


def summary_text(questions: Questions, grades: list[Grade], slips: int = 3) -> str:
    """Per question: how many hold, are wrong, unreadable, missing; the mean; the commonest slips."""
    header = ("question", "points", "holds", "wrong", "unreadable", "missing", "mean", "commonest slips")
    rows = [header]
    for s in summary_data(questions, grades):
        common = "; ".join(f"{x['slip']} ({x['count']})" for x in s["slips"][:slips])
        rows.append(
            (
                s["question"],
                number(s["max_points"]),
                *(str(s[v]) for v in VERDICTS),
                number(s["mean_points"]),
                common,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(header) - 1)]
    lines = ["  ".join([*(c.ljust(w) for c, w in zip(r, widths)), r[-1]]).rstrip() for r in rows]
    return "\n".join(lines) + "\n"
