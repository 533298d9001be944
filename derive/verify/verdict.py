"""The verdict on one claim, for every kind of network: ``Verdict`` (``bool(v)``: it holds) and its
``Counterexample``.  Scalar claims (``derive.verify.scalar``) and vectorised ones (``derive.verify.vectorised``) return it."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Counterexample:
    """Where a claim fails: the point (leaf values), the claimed and the true value."""

    point: dict[str, float]
    claimed: object
    true: object
    note: str = ""

    def __str__(self) -> str:
        where = ", ".join(f"{k} = {v:.10g}" if isinstance(v, float) else f"{k} = {v}" for k, v in self.point.items())
        extra = f" ({self.note})" if self.note else ""
        return f"at {where}: claimed {_num(self.claimed)}, true {_num(self.true)}{extra}"


@dataclass(frozen=True)
class Verdict:
    """The result of checking one claim; ``bool(v)`` is whether it holds."""

    wrt: str
    claim: str
    equal: bool
    symbolic: str  # "proved" | "not proved" | "skipped"
    numeric: str  # e.g. "agrees at 30 points (6 at kinks)" or "differs"
    truth: str  # the derived formula, as text
    counterexample: Counterexample | None = None
    hint: str | None = None
    of: str | None = None  # the function differentiated (the loss, a node) or None for an identity
    details: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.equal

    @property
    def target(self) -> str:
        if self.wrt.endswith("←") or self.of == "update":
            return f"update of {self.wrt.rstrip('←')}"
        if self.of is None:
            return self.wrt
        return f"∂{self.of}/∂{self.wrt}"

    def report(self) -> str:
        """Several lines for a person: verdict, both checks, the counterexample and the hint."""
        variant = self.details.get("variant")  # a form other texts print on purpose (ε inside the √)
        head = "holds" if self.equal else "a variant, not the module's form" if variant else "WRONG"
        lines = [
            f"{self.target}: {head}",
            f"  claim:    {self.claim}",
            f"  derived:  {self.truth}",
            f"  symbolic: {self.symbolic}",
            f"  numeric:  {self.numeric}",
        ]
        if self.counterexample is not None:
            lines.append(f"  counterexample: {self.counterexample}")
        if self.hint:
            lines.append(f"  {'variant' if variant else 'likely slip'}: {self.hint}")
        if self.details.get("note"):
            lines.append(f"  note:     {self.details['note']}")
        return "\n".join(lines)

    def _repr_markdown_(self) -> str:
        """The report for Jupyter: the verdict in bold, each line after it an item, values as code."""
        head, *rest = self.report().splitlines()
        items = []
        for line in rest:
            key, _, value = line.strip().partition(": ")
            items.append(f"- {key}: `{value.strip().replace('`', chr(39))}`")
        return f"**{head}**\n\n" + "\n".join(items)


def _num(v) -> str:
    if isinstance(v, float):
        if math.isnan(v):
            return "undefined"
        if math.isinf(v):
            return f"{'−' if v < 0 else ''}beyond the float range (overflow)"
        return f"{v + 0.0:.6g}"
    return str(v)
