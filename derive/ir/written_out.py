"""A loss the cost writes out entry by entry, read as the loss record it spells (``derive.ops.losses``).

NumPy users write binary cross-entropy by hand,
``-mean_columns(Y * log(A) + (1 - Y) * log(1 - A))`` (or ``-np.mean(…)``, ``-(1/m) * (…).sum()``, the terms
in either order, the minus sign inside), and cross-entropy as ``-mean_columns(sum_rows(Y * log(A)))``.  Read
literally that is a different program from the catalogue's: no loss node, so σ and the loss never meet and
``dZ = A − Y`` is never seen.  A cost term that holds a target is read here as NumPy reads it (``*`` entry by
entry, the sums and means linear), gathered into one entry-wise expression ``c · Σ_entries e(ŷ, y)``, and
compared with each loss record's own definition ℓ(ŷ, y): where ``e = κ ℓ`` for a positive number κ, the term
is ``κ m · ℓ(A, Y)``, the record's batch cost (``(1/m) Σ_columns ℓ``) scaled; κ = 1/m is the lecture's mean,
κ = 1 a cost summed over the examples.  A term with a log that spells no loss is refused, naming the forms.
"""

from __future__ import annotations

import sympy as sp

from ..errors import DeclarationError
from ..ops import find, records
from .vocabulary import Hadamard, MeanColumns, MeanOf, MeanRows, PowerOf, RowSumOf, SumColumns, SumOf, SumRows

# reduction -> (over the rows, over the columns, a mean)
REDUCTIONS = {
    SumColumns: (False, True, False),
    RowSumOf: (False, True, False),
    MeanColumns: (False, True, True),
    SumRows: (True, False, False),
    MeanRows: (True, False, True),
    SumOf: (True, True, False),
    MeanOf: (True, True, True),
}


def losses_written_out(net, expr, where):
    """``expr`` (the cost, over the declaration's quantities) with each loss written out as the record's call:
    the terms that read one target together (``−mean_columns(Y * log(A)) − mean_columns((1 − Y) * log(1 − A))``),
    else each term alone."""
    if not isinstance(expr, sp.Expr):
        return expr
    kept, data = [], {}
    for term in sp.Add.make_args(expr):
        target = _target(net, term)
        if target is None or any(_is_loss(node) for node in sp.preorder_traversal(term)):
            kept.append(term)
        else:
            data.setdefault(target, []).append(term)
    if not data:
        return expr
    for target, terms in data.items():
        loss = _read(net, sp.Add(*terms), target, where) if len(terms) > 1 else None
        if loss is not None:
            kept.append(_checked(net, loss, target, sp.Add(*terms), where))
            continue
        for term in terms:
            loss = _read(net, term, target, where)
            if loss is None and term.has(sp.log):
                raise DeclarationError(
                    f"the cost's term '{term}' holds a log but spells no loss chainrule knows: write {log_losses()}",
                    where,
                )
            kept.append(term if loss is None else _checked(net, loss, target, term, where))
    return sp.Add(*kept)


def log_losses() -> str:
    """The losses with a log, each as its batch cost reads and as a declaration calls it (for messages)."""
    a, y = sp.Dummy("a"), sp.Dummy("y")
    return "; ".join(
        f"{r.cost.format(A='A', Y='Y')}, or {r.name}(A, Y)"
        for r in records("loss")
        if r.cost and r.definition(a, y).has(sp.log)
    )


def _is_loss(node) -> bool:
    rec = find(type(node)) if isinstance(node, sp.Function) else None
    return rec is not None and rec.kind == "loss"


def _target(net, term):
    """The one target (or quantity of targets only) ``term`` reads, else None."""
    held = {s for s in term.free_symbols if not s.is_commutative and s.name in net.kinds and net.target_only(s.name)}
    return held.pop() if len(held) == 1 else None


def _read(net, term, Y, where):
    """``(κ, record, A)`` when ``term`` is ``κ Σ_entries ℓ(A, Y)`` for a loss record ℓ, else None."""
    rows, cols = (_one_or(net, d) for d in net.matrices[Y.name].shape)
    parts = _parts(term, rows, cols)
    if parts is None:
        return None
    left = {("rows" if r and rows != 1 else "") + ("columns" if c and cols != 1 else "") for _, _, r, c in parts}
    if left != {""}:
        if term.has(sp.log) and len(left) == 1 and left != {"rowscolumns"}:
            over = "columns" if left == {"rows"} else "rows"
            raise DeclarationError(
                f"the cost's term '{term}' sums {Y}'s entries over the {over} only, so it is not a scalar: sum its"
                f" {left.pop()} too (−mean_columns(sum_rows(Y * log(A))), or np.mean(np.sum(…, axis=0)))",
                where,
            )
        return None  # not every entry summed: not a scalar
    y, a = sp.Dummy("y"), sp.Dummy("a")
    outputs: dict = {}
    total = 0
    for scale, e, _, _ in parts:
        entry = _entry(e, Y, y, outputs)
        if entry is None:
            return None
        total += scale * entry
    if len(outputs) != 1:
        return None
    (A, ahat), *_ = outputs.items()
    total = sp.expand(total.xreplace({ahat: a}))
    for rec in records("loss"):
        kappa = sp.cancel(total / sp.expand(rec.definition(a, y)))
        if kappa != 0 and not kappa.has(y, a, sp.log):
            return kappa, rec, A
    return None


def _one_or(net, d):
    """1 for a dimension declared of size 1 (``n2=1``: a mean over its one row divides by nothing), else ``d``."""
    return sp.S.One if d.free_symbols and d.free_symbols <= set(net.dim_sizes) and net.size(d) == 1 else d


def _parts(e, rows, cols):
    """``e`` as ``[(scale, entry-wise expression, rows left, columns left)]`` whose sum it is, NumPy's reading:
    a sum or a mean over an axis is linear, so a scale walks out of it; None where ``e`` is not of that form."""
    if isinstance(e, sp.Add):
        parts = [_parts(t, rows, cols) for t in e.args]
        if any(p is None for p in parts):
            return None
        out = [q for p in parts for q in p]
        return out if len({(r and rows != 1, c and cols != 1) for _, _, r, c in out}) == 1 else None  # one shape
    if isinstance(e, sp.Mul):
        c, nc = e.args_cnc()
        if len(nc) == 1 and type(nc[0]) in REDUCTIONS:
            inner = _parts(nc[0], rows, cols)
            return None if inner is None else [(sp.Mul(*c) * s, q, r, k) for s, q, r, k in inner]
        if any(type(n) in REDUCTIONS for f in nc for n in sp.preorder_traversal(f)):
            return None
        return [(sp.Mul(*c), sp.Mul(*nc), True, True)]
    if type(e) in REDUCTIONS:
        over_rows, over_cols, mean = REDUCTIONS[type(e)]
        inner = _parts(e.args[0], rows, cols)
        if inner is None:
            return None
        out = []
        for s, q, r, k in inner:
            if mean:
                s = s / ((rows if r and over_rows else 1) * (cols if k and over_cols else 1))
            out.append((s, q, r and not over_rows, k and not over_cols))
        return out
    if any(type(n) in REDUCTIONS for n in sp.preorder_traversal(e)):
        return None
    return [(sp.S.One, e, True, True)]


def _entry(e, Y, y, outputs):
    """One entry of the entry-wise expression ``e``, NumPy's reading (``*`` entry by entry): the target's entry
    ``y``, the output's a symbol of ``outputs`` (a quantity, or an activation of one); None if ``e`` is not
    entry-wise (a matrix product, a transpose, …)."""
    if e == Y:
        return y
    if e.is_commutative:
        return e  # a number or a constant
    if isinstance(e, sp.Symbol) or (isinstance(e, sp.Function) and getattr(find(type(e)), "kind", "") == "activation"):
        return outputs.setdefault(e, sp.Dummy("a"))
    if isinstance(e, (sp.Add, sp.Mul, Hadamard)) or type(e) is sp.log:
        args = [_entry(a, Y, y, outputs) for a in e.args]
        if any(a is None for a in args):
            return None
        return sp.log(args[0]) if type(e) is sp.log else (sp.Add if isinstance(e, sp.Add) else sp.Mul)(*args)
    if isinstance(e, PowerOf):
        base = _entry(e.args[0], Y, y, outputs)
        return None if base is None else base ** e.args[1]
    return None


def _checked(net, loss, Y, term, where):
    """``κ m ℓ(A, Y)``: the record's batch cost ``(1/m) Σ_columns ℓ`` scaled to the term; κ must be positive."""
    kappa, rec, A = loss
    if kappa.is_negative:
        raise DeclarationError(
            f"the cost's term '{term}' is −{rec.title or rec.name} (it would be maximised): the loss written"
            " out needs its minus sign",
            where,
        )
    return kappa * net.m * rec.cls(A, Y)
