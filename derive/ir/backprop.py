"""One reverse sweep over a layer-level program: every adjoint pulled back through one op, summed over uses.

The program is a list of named assignments in declaration (topological)
order and a scalar cost J.  The sweep seeds ``∂J/∂J = 1``, walks the
assignments backwards and, at each quantity, first writes its adjoint (the
sum of the terms its uses sent back, a ``SumOverUses`` step when there are
several), then pulls it back through the quantity's definition with the op
table (``derive.ops.pull_back``), one ``VecChainRule`` step per operand.
A parameter's adjoint is written as soon as its last use has been pulled
back.  Nothing is special-cased but the lecture's cancellation, a rewrite
rule of the table: where the output activation and the loss match
(the loss record's ``matched``), ``dZ_L`` is checked entry by entry to equal
``A_L − Y`` and written so.

Scale convention (Ng's): ``dQ`` is ``m ∂J/∂Q`` for a quantity with one
column per example (the per-example gradient, stacked), ``∂J/∂Q`` for any
other.  A term sent from ``Q`` to an operand ``P`` is multiplied by
``s_P / s_Q``: ``(1/m)`` into a parameter (``dW = (1/m) dZ Aᵀ``), ``m``
from a per-feature statistic back into the batch.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from ..errors import ChainruleError
from ..ops import PATH, LossSum, PullContext, adjoint, pull_back, record_of, why
from ..printing.matrix import matrix_text, pull_scalars, sum_text
from .equation import Equation, Term
from .reasons import activation_why, rule_text
from .steps import Cancellation, Convention, FactorOut, SumOverUses, VecChainRule

LOSS_KEYS = ("loss", "loss-summed")  # the loss stanza's rules: J = (1/m) Σ L, J = Σ L


@dataclass(frozen=True)
class Assignment:
    """One declared assignment ``name = value``, with its kind as the lecture reads it.

    ``kind``: ``"affine"`` (W A + b with W, b parameters: operands (W, A[, b])),
    ``"activation"`` (g(Q): operands (Q,)), else ``"let"`` (operands: every name
    the value reads, in reading order).
    """

    name: str
    kind: str
    operands: tuple[str, ...]
    function: str | None
    value: sp.Basic
    where: str | None


def names_in(expr) -> tuple[str, ...]:
    """The matrix names ``expr`` reads, in reading order, once each."""
    seen: list[str] = []
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.MatrixSymbol) and node.name not in seen:
            seen.append(node.name)
    return tuple(seen)


class Sweep:
    """The reverse sweep of ``net`` (a ``VecNetwork``): fills ``forward``, ``backward`` and ``steps``."""

    def __init__(self, net, m):
        self.net, self.m = net, m
        self.mat = net.matrices
        self.forward: list[Equation] = []
        self.backward: list[Equation] = []
        self.steps: list = []
        self.adjoints: dict[str, sp.MatrixSymbol] = {}
        self.terms: dict[str, list[tuple]] = {}  # name -> [(via, expr, key, rule, rule in LaTeX)]
        self.uses_left: dict[str, int] = {}
        self.done: set[str] = set()
        self.ctx = PullContext({a.value: self.mat[a.name] for a in net.assignments if a.kind == "activation"})
        self.example_scale = example_scale(net.cost_expr, m)
        self.trainable = trainable(net)

    # ------------------------------------------------------------ helpers
    def scale(self, name: str):
        if name == "J":
            return sp.S.One
        if self.example_scale == 1:
            return sp.S.One  # J = Σ L, a sum over the examples: every dQ is ∂J/∂Q itself
        rows, cols = self.mat[name].shape
        # one column per example; a T×T attention matrix (T = m positions of one sequence) is not
        return self.m if cols == self.m and self.m not in sp.sympify(rows).free_symbols else sp.S.One

    def adjoint(self, name: str) -> sp.MatrixSymbol:
        if name not in self.adjoints:
            self.adjoints[name] = sp.MatrixSymbol(f"d{name}", *self.mat[name].shape)
        return self.adjoints[name]

    def emit(self, into, target, kind, operands, function, expr, text=None, layer=None, terms=()):
        number = len(self.forward) + len(self.backward) + 1
        shape = tuple(expr.shape)
        base = target[1:] if target.startswith("d") and target[1:] in self.net.kinds else target
        if base in self.mat and base != target and tuple(self.mat[base].shape) != shape:
            raise ChainruleError(f"internal: {target} has shape {shape}, {base} has {self.mat[base].shape}")
        eq = Equation(
            number,
            target,
            kind,
            tuple(operands),
            function,
            shape,
            expr,
            text or f"{target} = {matrix_text(expr)}",
            self.net.layers.get(base, layer),
            tuple(terms),
        )
        into.append(eq)
        return eq

    # -------------------------------------------------------------- sweep
    def run(self) -> None:
        net = self.net
        for a in net.assignments:
            self.emit(self.forward, a.name, a.kind, a.operands, a.function, a.value)
        self.cost_equation()
        self.steps.append(
            Convention(
                "dQ is ∂L/∂Q per example, stacked in columns, so ∂J/∂Q = (1/m) dQ for J = (1/m) Σ L;"
                " a parameter's dW is ∂J/∂W itself"
                if self.example_scale != 1
                else "J sums the examples' losses (no 1/m), so every dQ is ∂J/∂Q itself"
            )
        )
        for a in net.assignments:
            for op in a.operands:
                self.uses_left[op] = self.uses_left.get(op, 0) + 1
        for op in names_in(net.cost_expr):
            self.uses_left[op] = self.uses_left.get(op, 0) + 1
        self.send("J", net.cost_expr, sp.S.One)
        for a in reversed(net.assignments):
            if a.name in self.done:  # the output layer's Z, written with the cancellation
                self.send(a.name, a.value, self.adjoint(a.name))
            elif not self.terms.get(a.name):
                continue  # does not reach the cost
            elif not self.output_delta(a):
                self.write(a.name)
                self.send(a.name, a.value, self.adjoint(a.name))
        self.finish()
        unreached = [p for p, _ in net.params() if p not in self.done]
        if unreached:
            raise ChainruleError(f"parameter '{unreached[0]}' does not reach the cost", f"network '{net.name}'")

    def finish(self) -> None:
        """After the reverse walk: what a subclass writes last (BPTT: the adjoint of each h_{t−1})."""

    def cost_equation(self) -> None:
        net = self.net
        if net.classic_cost:
            A, Y = net.cost_operands
            text = record_of(net.loss).cost.format(A=A, Y=Y)
            self.emit(self.forward, "J", "loss", (A, Y), net.loss, net.cost_expr, text=text)
            return
        parts = sp.Add.make_args(net.cost_expr) if isinstance(net.cost_expr, sp.MatAdd) else (net.cost_expr,)
        terms, texts = [], []
        for t in sorted(parts, key=lambda t: not _is_data_term(t)):  # the loss first, then the penalties
            if _is_data_term(t):
                loss = t if isinstance(t, LossSum) else next(f for f in t.args if isinstance(f, LossSum))
                terms.append(Term("J", "loss", (loss.args[1].name, loss.args[2].name), loss.loss, t))
                scale = t.as_coeff_matrices()[0] if isinstance(t, sp.MatMul) else sp.S.One
                texts.append(_loss_text(loss, scale, self.m))  # as the lecture writes it, at the declared scale
            else:
                terms.append(Term("J", "penalty", names_in(t), None, t))
                texts.append(None)
        text = "J = " + sum_text([t.expr for t in terms], texts)
        self.emit(self.forward, "J", "cost", names_in(net.cost_expr), net.loss, net.cost_expr, text=text, terms=terms)

    def send(self, via: str, value, G) -> None:
        """Pull ``G`` (the adjoint of ``via = value``) back to every operand; write the parameters it completes."""
        ratio_of = self.scale(via)
        completed = []
        for symbol, contribution, path in pull_back(value, G, self.ctx):
            key = path.rsplit(PATH, 1)[-1]  # the innermost op's rule: what the term is
            name = symbol.name
            if self.net.kinds[name] not in ("param", "node", "state") or name not in self.trainable:
                continue  # an input, or a quantity of inputs alone (im2col(X)): no gradient to carry
            ratio = self.scale(name) / ratio_of
            expr = pull_scalars(contribution if ratio == 1 else _scaled(ratio, contribution))
            if key in LOSS_KEYS:
                rule = f"{why(key)}; {record_of(self.net.loss).matrix_why}"
                latex = why(key, "latex")
            else:
                rule, latex = rule_text(path), rule_text(path, "latex")
                if ratio == 1 / self.m:
                    rule += "; (1/m) for J"
                    latex += r"; $\frac{1}{m}$ for $J$"
                elif ratio == self.m:
                    rule += f"; m for the per-example d{name}"
                    latex += rf"; $m$ for the per-example $\mathrm{{d}}{name}$"
            self.terms.setdefault(name, []).append((via, expr, key, rule, latex))
        for name in names_in(value):
            self.uses_left[name] -= 1
            if self.uses_left[name] == 0 and self.net.kinds[name] == "param" and name in self.terms:
                completed.append(name)
        for name in completed:
            self.write(name)

    # ------------------------------------------------------------ writing
    def definition(self, via: str):
        if via == "J":
            net = self.net
            if net.classic_cost:
                return LossSum(net.loss, self.mat[net.cost_operands[0]], self.mat[net.cost_operands[1]])
            return net.cost_expr
        return self.net.assignment(via).value

    def write(self, name: str) -> None:
        """The adjoint of ``name``: one term, or the sum over its uses."""
        terms = self.terms[name]
        target = f"d{name}"
        self.adjoint(name)
        out = []
        for via, expr, key, rule, latex in terms:
            self.steps.append(VecChainRule(target, via, self.definition(via), expr, rule, latex=latex))
            out.append(self.term(name, via, expr, key))
        self.done.add(name)
        if len(out) == 1:
            t = out[0]
            self.emit(self.backward, target, t.kind, t.operands, t.function, t.expr)
            return
        position = {a.name: i for i, a in enumerate(self.net.assignments)}
        out.sort(key=lambda t: position.get(t.via, len(position)))  # the earliest use first, the cost's terms last
        total = out[0].expr
        for t in out[1:]:
            total = total + t.expr
        self.steps.append(SumOverUses(target, tuple((t.via, t.expr) for t in out), total))
        text = f"{target} = {sum_text([t.expr for t in out])}"
        common, factored = factor_out(total)
        if common:
            self.steps.append(FactorOut(target, total, factored, common))
            total, text = factored, f"{target} = {matrix_text(factored)}"
        self.emit(self.backward, target, "sum", names_in(total), None, total, text=text, terms=out)

    def term(self, name: str, via: str, expr, key: str) -> Term:
        """The kind of one use's term, as the emitters and handouts read it."""
        if via == "J":
            if key in LOSS_KEYS:
                return Term(via, "loss_grad", tuple(self.net.cost_operands), self.net.loss, expr)
            return Term(via, "adjoint", names_in(expr), None, expr)
        a = self.net.assignment(via)
        G = self.adjoint(via).name
        if a.kind == "affine":
            W, A = a.operands[:2]
            if name == W:
                return Term(via, "weight_grad", (G, A), None, expr)
            if len(a.operands) == 3 and name == a.operands[2]:
                return Term(via, "bias_grad", (G,), None, expr)
            if name == A and W != A:
                return Term(via, "backprop", (W, G), None, expr)
        if a.kind == "activation" and name == a.operands[0]:
            return Term(via, "activation_grad", _used(expr, G, via, name), a.function, expr)
        return Term(via, "adjoint", names_in(expr), None, expr)

    def output_delta(self, a: Assignment) -> bool:
        """``dZ_L = A_L − Y`` where the table's cancellation applies; False to write dA_L as usual."""
        net = self.net
        terms = self.terms[a.name]
        if not (net.cost_operands and a.name == net.cost_operands[0] and len(terms) == 1 and terms[0][2] in LOSS_KEYS):
            return False
        loss = record_of(net.loss)
        if a.kind != "activation" or a.function != loss.matched:
            return False
        Z = a.operands[0]
        if self.uses_left.get(Z, 0) != 1 or net.kinds[Z] != "node":
            return False
        A, Y = self.mat[a.name], self.mat[net.cost_operands[1]]
        dA_value = terms[0][1]
        # a cost other than the mean, J = c Σ L (a sum: c = 1), scales the per-example delta by c m
        scale, unit = sp.S.One, dA_value
        per_example = pull_scalars(loss.grad(A, Y))  # ∂ℓ/∂A as the record writes it
        if dA_value != per_example and isinstance(dA_value, sp.MatMul):
            ours, theirs = (
                dA_value.as_coeff_matrices()[0],
                per_example.as_coeff_matrices()[0] if isinstance(per_example, sp.MatMul) else sp.S.One,
            )
            scale, unit = ours / theirs, per_example
        raw = adjoint(record_of(a.function), self.adjoint(a.name), A, self.mat[Z])
        checked = cancellation(raw.xreplace({self.adjoint(a.name): unit}), A, Y, self.m)
        if checked is None:
            return False
        self.steps.append(
            VecChainRule(f"d{a.name}", "J", self.definition("J"), dA_value, terms[0][3], latex=terms[0][4])
        )
        self.steps.append(
            VecChainRule(
                f"d{Z}", a.name, a.value, raw, activation_why(a.function), latex=activation_why(a.function, "latex")
            )
        )
        kind, entry = checked
        reason = loss.cancel_why
        if kind == "one-hot" and net.kinds[Y.name] != "target":
            total = column_sum(net, Y.name, self.m)
            if total != 1:
                return False  # a target whose columns need not sum to 1: no cancellation
            reason = (
                f"A ⊙ (−{Y.name}/A) = −{Y.name}, and Σ_rows {Y.name} = 1: {Y.name} = {matrix_text(net.assignment(Y.name).value)}"
                " and each column of the one-hot target sums to 1"
            )
        delta = A - Y if scale == 1 else sp.MatMul(scale, A - Y)
        self.steps.append(
            Cancellation(
                f"d{Z}",
                raw.xreplace({self.adjoint(a.name): dA_value}),
                delta,
                reason,
                kind,
                entry,
            )
        )
        self.adjoint(Z)
        operands = (a.name, net.cost_operands[1])
        self.emit(self.backward, f"d{Z}", "output_delta" if scale == 1 else "adjoint", operands, a.function, delta)
        self.done.update({a.name, Z})
        self.uses_left[Z] = 0
        self.terms[Z] = []
        return True


def trainable(net) -> set[str]:
    """The quantities a gradient must reach: parameters, states, and every quantity computed from one."""
    out = {n for n, k in net.kinds.items() if k in ("param", "state")}
    for a in net.assignments:
        if any(n in out for n in names_in(a.value)):
            out.add(a.name)
    return out


def example_scale(cost, m):
    """m when the cost's loss is a mean over the examples (J = (1/m) Σ L, or any coefficient with m in it):
    each dQ of a quantity with one column per example is then m ∂J/∂Q, the per-example gradient (Ng's
    convention); 1 when it is a plain sum (J = Σ L, or c Σ L with c free of m): dQ is ∂J/∂Q."""
    for t in sp.preorder_traversal(cost):
        if isinstance(t, sp.MatMul) and any(isinstance(f, LossSum) for f in t.args):
            return m if m in sp.sympify(t.as_coeff_matrices()[0]).free_symbols else sp.S.One
        if isinstance(t, LossSum):
            return sp.S.One
    return m


def factor_out(total) -> tuple[tuple, sp.Basic]:
    """``(common, F ⊙ (B − C))`` for a sum whose terms are all ⊙-products sharing the factors ``common``
    (``F ⊙ B − F ⊙ C``); ``((), total)`` when they share none."""
    terms = list(sp.MatAdd.make_args(total)) if isinstance(total, sp.MatAdd) else [total]
    if len(terms) < 2:
        return (), total
    split = []
    for t in terms:
        scalar, body = t.as_coeff_matrices() if isinstance(t, sp.MatMul) else (sp.S.One, [t])
        if len(body) != 1 or not isinstance(body[0], sp.HadamardProduct):
            return (), total
        split.append((scalar, list(body[0].args)))
    common = [f for f in split[0][1] if all(f in factors for _, factors in split[1:])]
    if not common:
        return (), total
    rests = []
    for scalar, factors in split:
        rest = [f for f in factors if f not in common]
        body = rest[0] if len(rest) == 1 else sp.HadamardProduct(*rest) if rest else sp.OneMatrix(*total.shape)
        rests.append(body if scalar == 1 else scalar * body)
    inner = rests[0]
    for r in rests[1:]:
        inner = inner + r
    return tuple(common), sp.HadamardProduct(*common, inner)


def _loss_text(loss, scale, m) -> str | None:
    """The cost term ``scale · Σ_columns ℓ(A, Y)`` as a lecturer writes it: the mean (scale 1/m) as the record's
    cost reads, another multiple of 1/m with the record's sum (mean((P − Y)²) is (1/m) Σ (P − Y)², since ℓ is
    ½ Σ (…)²); None (printed as declared, Σ_columns with the loss's name) for anything else."""
    per_m = sp.nsimplify(scale * m)
    if not (per_m.is_Rational and per_m != 0 and loss.record.summed is not None):
        return None  # a sum over the examples reads with its loss's name: J = Σ_columns cross_entropy(ŷ, y)
    return loss.record.mean_text(per_m).format(A=loss.args[1].name, Y=loss.args[2].name)


def _is_data_term(term) -> bool:
    """A loss summed over the examples, with any coefficient: (1/m) Σ L (the mean), Σ L (the sum) …"""
    return isinstance(term, LossSum) or (isinstance(term, sp.MatMul) and any(isinstance(f, LossSum) for f in term.args))


def _scaled(ratio, expr):
    """``ratio · expr``, with the ratio as the product's leading coefficient (``(1/m) dZ2 A1ᵀ``)."""
    if isinstance(expr, sp.MatMul):
        scalar, factors = expr.as_coeff_matrices()
        if scalar * ratio == 1:
            return sp.MatMul(*factors) if len(factors) > 1 else factors[0]
        return sp.MatMul(ratio * scalar, *factors)
    return sp.MatMul(ratio, expr)


def _used(expr, *names) -> tuple[str, ...]:
    """Those of ``names`` that ``expr`` mentions, in the given order."""
    present = {s.name for s in expr.atoms(sp.MatrixSymbol)}
    return tuple(n for n in names if n in present)


def cancellation(expr, A, Y, m, rows: int = 3):
    """Whether ``expr`` (in A and Y) equals ``A − Y`` entry by entry: ``("cancel" | "one-hot", entry)`` or None.

    Checked on an explicit column of ``rows`` entries (the identity is the same
    for every width); "one-hot" when it needs each column of Y to sum to 1.
    """
    from .numeric import SymPyEvaluator

    if A.shape[0] == 1:
        rows = 1  # a one-row output declared as 1, not as a dimension: its entries are numbers
    a = sp.Matrix(sp.symbols(f"a1:{rows + 1}"))
    y = sp.Matrix(sp.symbols(f"y1:{rows + 1}"))
    dims = {A.shape[0]: rows, m: 1} if A.shape[0] != 1 else {m: 1}
    try:
        entries = SymPyEvaluator({A.name: a, Y.name: y}, dims)(expr)
    except NotImplementedError:
        return None
    diffs = [sp.simplify(entries[k] - (a[k] - y[k])) for k in range(rows)]
    if all(d == 0 for d in diffs):
        return "cancel", (entries[0], a[0] - y[0])
    one_hot = {y[rows - 1]: 1 - sum(y[: rows - 1])}
    if all(sp.simplify(d.subs(one_hot)) == 0 for d in diffs):
        return "one-hot", (entries[0], a[0] - y[0])
    return None


def column_sum(net, name: str, m, rows: int = 3):
    """Σ_rows of target-only quantity ``name`` for one column whose one-hot target has its 1 in the first row."""
    from .numeric import SymPyEvaluator

    value = net.assignment(name).value
    env, dims = {}, {m: 1}
    for t in net.names("target"):
        r = value.shape[0] if net.matrices[t].shape[0] == value.shape[0] else None
        if r is None:
            return None
        dims[net.matrices[t].shape[0]] = rows
        env[t] = sp.Matrix([1] + [0] * (rows - 1))
    for d in net.dim_sizes:
        dims.setdefault(d, rows)
    dims.update({net.constants[c]: net.constants[c] for c in net.constants})
    try:
        column = SymPyEvaluator(env, dims)(value)
    except (NotImplementedError, KeyError):
        return None
    return sp.simplify(sum(column))
