"""One student's answer to one question, checked by ``derive.verify``, as plain data (it crosses a pipe).

* a question of kind ``"claim"``: one line is checked for the gradient asked; several lines are a chain,
  and the answer holds when every line does and one of them is that gradient.  All or nothing.
* ``"steps"``: a chain graded line by line: every line is checked against the network (a ``= …`` line
  also against the line before it), and the credit is the share of lines before the first wrong one
  (a chain that never reaches the gradient asked counts one line more, the missing last one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from derive import ChainruleError
from derive.verify.claims import ClaimError

from ..jsonout import plain

MAX_LINES = 60  # lines of one answer; a longer one is unreadable


@dataclass(frozen=True)
class LineResult:
    formula: str
    verdict: str  # "holds" | "wrong" | "unreadable"
    target: str = ""  # what the line is about: ∂L/∂W11, dW1, …
    follows: bool | None = None  # a "= …" line: does it follow from the line before?
    hint: str = ""
    reason: str = ""  # why it cannot be read
    counterexample: dict | None = None  # {"point", "claimed", "true", "note"}
    derived: str = ""
    note: str = ""


@dataclass(frozen=True)
class Outcome:
    verdict: str  # "holds" | "wrong" | "unreadable" | "missing"
    fraction: float = 0.0  # of the question's points
    slip: str = ""  # the slip's short name (the hint up to its first ':')
    hint: str = ""
    reason: str = ""
    first_wrong: int | None = None  # index of the first line that is not right
    lines: tuple[LineResult, ...] = field(default_factory=tuple)


def goal(target, wrt: str) -> str:
    """What a verdict for ``wrt`` is about (``∂L/∂W11``, ``dW1``): the gradient a question asks.  A
    ``ClaimError`` naming the network's own names when it has no such gradient."""
    from derive.verify.scalar import SpecTarget

    views = [target.primary, target.other()] if isinstance(target, SpecTarget) else [target]
    first = None
    for view in (v for v in views if v is not None):
        try:
            return _goal(view, wrt)
        except ClaimError as exc:
            first = first or exc
    raise first


def _goal(view, wrt: str) -> str:
    from derive.verify.claim_scope import ScalarScope
    from derive.verify.vec_read import target_name
    from derive.verify.vec_target import VecTarget

    if isinstance(view, VecTarget):
        return target_name(view, wrt, None)
    if hasattr(view, "goal"):  # a program with convolutions (derive.verify.conv.ConvTarget)
        return view.goal(wrt)
    scope = ScalarScope(view)
    name = scope.gradient_name(wrt) if not scope.knows(wrt) else scope.resolve(wrt)
    if name is None:
        scope.resolve(wrt)  # raises, naming the network's names
    if scope.kinds.get(name) not in ("param", "input", "node"):
        raise ClaimError(f"'{wrt}' is the {scope.kinds.get(name)}, not something the loss has a gradient for")
    return f"∂{view.net.loss_name}/∂{name}"


def check_answer(target, goal_text: str, wrt: str, kind: str, formulas: tuple[str, ...]) -> Outcome:
    """The outcome of one answer (its formulas in order) to a question about ``wrt``."""
    from derive.verify.scalar import verify_spec

    from ..cmd_verify import Unreadable, chain_rows

    if len(formulas) > MAX_LINES:
        return Outcome("unreadable", reason=f"too many lines ({len(formulas)}; at most {MAX_LINES})")
    if len(formulas) == 1 and kind == "claim":
        formula = formulas[0]
        latex = formula.startswith("$") or "\\" in formula
        claim = formula.strip("$") if latex else formula
        try:
            v = verify_spec(target, wrt, claim, latex=latex)
        except ChainruleError as exc:
            other = _other_gradient(target, formula, latex, goal_text) if exc.message.startswith("the left") else None
            if other is not None:
                return other
            return Outcome(
                "unreadable", reason=exc.message, lines=(LineResult(formula, "unreadable", reason=exc.message),)
            )
        rows = [(0, v, None)]
    else:
        rows = chain_rows(target, list(enumerate(formulas)), None, wrt)
    lines = tuple(_line(formulas[i], v, follows, Unreadable) for i, v, follows in rows)
    return _outcome(lines, goal_text, kind)


def _other_gradient(target, formula: str, latex: bool, goal_text: str) -> Outcome | None:
    """An answer whose left-hand side is another gradient than the one asked: wrong, and named."""
    from derive.verify.scalar import verify_spec

    try:
        v = verify_spec(target, None, formula.strip("$") if latex else formula, latex=latex)
    except ChainruleError:
        return None
    hint = f"an answer for another gradient: it is {v.target}, the question asks for {goal_text}" + (
        f" (as {v.target} it holds)" if v.equal else ""
    )
    line = LineResult(formula, "wrong", target=v.target, hint=hint, derived=v.truth)
    return Outcome("wrong", 0.0, slip_name(hint), hint, first_wrong=0, lines=(line,))


def _line(formula: str, v, follows, unreadable) -> LineResult:
    if isinstance(v, unreadable):
        return LineResult(formula, "unreadable", reason=v.reason)
    ce = v.counterexample
    counterexample = None
    if ce is not None:
        counterexample = {
            "point": plain(ce.point),
            "claimed": plain(ce.claimed),
            "true": plain(ce.true),
            "note": ce.note,
        }
    return LineResult(
        formula,
        "holds" if v.equal else "wrong",
        target=v.target,
        follows=follows,
        hint=v.hint or "",
        counterexample=counterexample,
        derived=v.truth,
        note=(v.details or {}).get("note", ""),
    )


def _outcome(lines: tuple[LineResult, ...], goal_text: str, kind: str) -> Outcome:
    first = next((i for i, line in enumerate(lines) if line.verdict != "holds"), None)
    reached = any(line.verdict == "holds" and line.target == goal_text for line in lines)
    if all(line.verdict == "unreadable" for line in lines):
        return Outcome("unreadable", reason=lines[0].reason, first_wrong=0, lines=lines)
    if first is None and reached:
        return Outcome("holds", 1.0, lines=lines)
    counted = len(lines) + (0 if reached else 1)
    fraction = (first if first is not None else len(lines)) / counted if kind == "steps" else 0.0
    if first is None:
        hint = f"the answer stops before {goal_text}: every line holds, but none of them is {goal_text}"
        return Outcome("wrong", fraction, slip_name(hint), hint, first_wrong=len(lines), lines=lines)
    bad = lines[first]
    if bad.verdict == "unreadable":
        return Outcome("wrong", fraction, "", "", f"a line cannot be read: {bad.reason}", first, lines)
    return Outcome("wrong", fraction, slip_name(bad.hint), bad.hint, first_wrong=first, lines=lines)


_SUFFIX = re.compile(r" \((?:the claim is|g' is|the rank-1)[^()]*(?:\([^()]*\)[^()]*)*\)$")


def slip_name(hint: str) -> str:
    """A hint's short, stable name, for tables: its words up to the first ': ' (``keepdims left out``,
    ``the derivative at the wrong node``), without a trailing ``(the claim is …)``; an update's slip is
    named after the slip in its step."""
    if not hint:
        return ""
    if hint.startswith("in the step") and ": " in hint:
        return "in the update's step: " + slip_name(hint.split(": ", 1)[1])
    return _SUFFIX.sub("", hint.split(": ", 1)[0]).strip()
