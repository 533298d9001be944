"""A class graded: every network derived once, every distinct answer checked once, in parallel."""

from __future__ import annotations

from dataclasses import dataclass

from derive import ChainruleError
from derive.verify.claims import ClaimError

from . import pool
from .checking import Outcome, check_answer, goal
from .questions import Questions
from .reports import Grade
from .submissions import Submission

TASK_SECONDS = 30.0  # wall clock, per task, on top of verify's CPU limit per claim (a worker that hangs)
LINE_SECONDS = 20.0  # … and per line of the answer
RUN_SECONDS = 3600.0  # the whole run, by default


@dataclass
class Prepared:
    questions: Questions
    targets: dict  # question id → the derived network it is checked against
    goals: dict  # question id → what a verdict for its gradient is about (∂L/∂W11, dW1)


def prepare(questions: Questions) -> Prepared:
    """Each network derived once (and both of its views made), each question's gradient looked up: a
    ``ChainruleError`` naming the question when its network or its gradient is bad."""
    from derive.verify.latex_reader import _parser
    from derive.verify.scalar import SpecTarget

    from ..cmd_verify import load_target

    made, targets, goals = {}, {}, {}
    for number, q in enumerate(questions.questions, 1):
        label = f"question {number} ('{q.id}')"
        if q.source not in made:
            try:
                made[q.source] = load_target(q.source)
            except ChainruleError as exc:
                raise ChainruleError(f"{label}: spec '{q.spec}': {exc}", questions.path) from None
            if isinstance(made[q.source], SpecTarget):
                made[q.source].other()  # made here, once, not in every worker
        targets[q.id] = made[q.source]
        try:
            goals[q.id] = goal(targets[q.id], q.wrt)
        except ClaimError as exc:
            raise ChainruleError(f"{label}: wrt = '{q.wrt}': {exc.message}", questions.path) from None
    _parser()  # the LaTeX grammar, built once before the workers are forked
    return Prepared(questions, targets, goals)


def grade(
    prepared: Prepared,
    submissions: list[Submission],
    *,
    jobs: int,
    total_seconds: float = RUN_SECONDS,
    progress=None,
) -> list[Grade]:
    """Every student's grade on every question, in order (students by name, questions as in the file)."""
    questions = prepared.questions.questions
    keys = [
        (q.id, tuple(line.formula for line in s.answers[q.id]))
        for s in submissions
        if s.problem is None
        for q in questions
        if q.id in s.answers
    ]
    by_id = {q.id: q for q in questions}

    def work(key):
        q = by_id[key[0]]
        return check_answer(prepared.targets[q.id], prepared.goals[q.id], q.wrt, q.kind, key[1])

    def task_seconds(key) -> float:
        return TASK_SECONDS + LINE_SECONDS * len(key[1])

    results = pool.run(keys, work, jobs=jobs, task_seconds=task_seconds, total_seconds=total_seconds, progress=progress)
    out = []
    for s in submissions:
        for q in questions:
            lines = tuple(s.answers.get(q.id, ()))
            if s.problem is not None:
                outcome = Outcome("unreadable", reason=s.problem)
            elif not lines:
                outcome = Outcome("missing")
            else:
                result = results[(q.id, tuple(line.formula for line in lines))]
                outcome = result if isinstance(result, Outcome) else Outcome("unreadable", reason=result.reason)
            out.append(Grade(s.student, q, outcome, lines))
    return out
