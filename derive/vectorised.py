"""Vectorised (layer-level) networks and their derivation: the IR the NumPy emitter reads.

Lecture convention (LECTURES.md, E): ``X`` is n0×m (one column per example),
``W_l`` is n_l×n_{l−1}, ``b_l`` is n_l×1; shapes stay symbolic (``n0, n1, …,
m``) so deriving a 784-512-512-10 network costs what a 2-2-1 does; the
concrete sizes are kept alongside (``VecNetwork.sizes``, ``dims``).

Declare by hand (``derive.mlp`` builds the same thing from a list of sizes)::

    net = VecNetwork("tiny")
    n0, n1, n2 = net.dims(n0=2, n1=3, n2=1)
    X, Y = net.input("X", n0), net.target("Y", n2)
    W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
    W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
    Z1 = net.let("Z1", W1 * X + b1)          # or net.affine("Z1", W1, X, b1), or "W1 @ X + b1"
    A1 = net.let("A1", tanh(Z1))              # or net.activation("A1", "tanh", Z1)
    Z2 = net.let("Z2", W2 * A1 + b2)
    A2 = net.activation("A2", "sigmoid", Z2)
    net.cost(binary_cross_entropy(A2, Y))     # or net.cost("binary_cross_entropy", A2, Y)
    d = net.derive()                          # VecDerivation: forward, backward, steps

The backward pass is the chain rule over this matrix program: every
equation is the pull-back of an adjoint through one operation by a rule of
``derive.vjp`` (no textbook formula is pasted).  For a matched output/loss
pair (sigmoid + BCE, softmax + CE, identity + MSE) the output delta is
checked entry by entry to collapse to ``A_L − Y`` and recorded as a
``Cancellation`` step.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.special import OneMatrix

from . import functions as F
from .errors import ChainruleError, DeclarationError, caller_place
from .matrix import Apply, LossSum, matrix_text
from .steps import Steps
from .vecnames import activation_name, loss_name
from .vecsteps import Cancellation, Convention, VecChainRule
from .vjp import ACTIVATIONS, CANCELLATIONS, LOSSES, WHY, pull_back

M = sp.Symbol("m", positive=True, integer=True)  # examples per batch (columns)
Shape = tuple[sp.Expr, sp.Expr]


# ----------------------------------------------------------------- the IR
@dataclass(frozen=True)
class Equation:
    """One vectorised equation ``target = expr``.

    * ``number``: 1-based, in handout order (forward, then backward);
    * ``kind``: forward ``"affine"`` (Z = W A_prev + b), ``"activation"`` (A = g(Z)),
      ``"loss"`` (J); backward ``"output_delta"`` (dZ_L = A_L − Y), ``"weight_grad"``,
      ``"bias_grad"``, ``"backprop"`` (dA_prev = Wᵀ dZ), ``"activation_grad"``
      (dZ = dA ⊙ g'(Z)), ``"loss_grad"`` (dA_L from the loss, unmatched pairs);
    * ``operands``: the names ``expr`` uses, in reading order (``("dZ2", "A1")`` for dW2);
    * ``function``: the activation (activation / activation_grad / output_delta) or the
      loss (loss / loss_grad) by name, else None;
    * ``shape``: symbolic (rows, cols); ``expr``: SymPy matrix expression; ``text``:
      ``"dW2 = (1/m) dZ2 A1ᵀ"``.

    Backward quantities follow Ng's convention: ``dQ`` is the per-example
    gradient ∂L/∂Q stacked in columns (``∂J/∂Q = (1/m) dQ``); ``dW``, ``db``
    are the gradients of the cost J itself.
    """

    number: int
    target: str
    kind: str
    operands: tuple[str, ...]
    function: str | None
    shape: Shape
    expr: sp.Basic
    text: str
    layer: int | None = None  # l of W_l, Z_l, A_l (0 for the input)

    def _repr_latex_(self) -> str:
        """The equation with its number and shape, for Jupyter."""
        from .latex import equation_latex

        return equation_latex(self)


@dataclass(frozen=True)
class VecNode:
    """One declared assignment: an affine map or an activation."""

    name: str
    kind: str  # "affine" | "activation"
    operands: tuple[str, ...]  # affine: (W, A_prev[, b]); activation: (Z,)
    function: str | None
    where: str | None


class VecNetwork:
    """A layer-level network: matrices with symbolic shapes, affine maps, activations, a cost."""

    def __init__(self, name: str, doc: str = ""):
        self.name = name
        self.doc = doc
        self.m = M
        self.dim_sizes: dict[sp.Symbol, int] = {}
        self.kinds: dict[str, str] = {}  # name -> input | target | param | node
        self.matrices: dict[str, sp.MatrixSymbol] = {}
        self.handles: dict[str, sp.Symbol] = {}
        self.assignments: list[VecNode] = []  # in program order
        self.loss: str | None = None  # the loss's name, once declared
        self.cost_operands: tuple[str, str] | None = None  # (A_L, Y)
        self.layers: dict[str, int] = {}  # quantity -> layer number

    # --------------------------------------------------------- dimensions
    def dims(self, **sizes: int):
        """Declare shape symbols with their concrete sizes: ``n0, n1 = net.dims(n0=2, n1=3)``."""
        where = caller_place()
        out = []
        for name, size in sizes.items():
            if not (isinstance(size, int) and size >= 1):
                raise DeclarationError(f"size of '{name}' must be a positive integer, got {size!r}", where)
            if name == "m" or any(s.name == name for s in self.dim_sizes):
                raise DeclarationError(f"dimension '{name}' is declared twice (or is the batch size m)", where)
            sym = sp.Symbol(name, positive=True, integer=True)
            self.dim_sizes[sym] = size
            out.append(sym)
        return out[0] if len(out) == 1 else tuple(out)

    # ------------------------------------------------------------- leaves
    def input(self, name: str, rows) -> sp.Symbol:
        """The input matrix (rows × m), one column per example."""
        return self._leaf(name, "input", (self._dim(rows, name), M), caller_place())

    def target(self, name: str, rows) -> sp.Symbol:
        """The target matrix (rows × m)."""
        return self._leaf(name, "target", (self._dim(rows, name), M), caller_place())

    def param(self, name: str, shape) -> sp.Symbol:
        """A trainable matrix of shape ``(rows, cols)`` (``(n1, 1)`` for a bias)."""
        where = caller_place()
        if not (isinstance(shape, (tuple, list)) and len(shape) == 2):
            raise DeclarationError(f"shape of '{name}' must be (rows, cols), got {shape!r}", where)
        return self._leaf(name, "param", (self._dim(shape[0], name), self._dim(shape[1], name)), where)

    def _dim(self, d, name):
        if d == 1:
            return sp.S.One
        if isinstance(d, sp.Symbol) and d in self.dim_sizes:
            return d
        raise DeclarationError(
            f"shape of '{name}' uses {d!r}, not a dimension declared with net.dims(...)", caller_place()
        )

    def _leaf(self, name, kind, shape, where):
        self._check_new(name, where)
        self.kinds[name] = kind
        self.matrices[name] = sp.MatrixSymbol(name, *shape)
        self.handles[name] = sp.Symbol(name, commutative=False)
        return self.handles[name]

    def _check_new(self, name, where):
        if not (isinstance(name, str) and name.isidentifier()):
            raise DeclarationError(f"'{name}' is not a valid name", where)
        if name in self.kinds:
            raise DeclarationError(f"'{name}' is defined twice (already a {self.kinds[name]})", where)
        if self.loss is not None:
            raise DeclarationError(f"'{name}' is declared after the cost", where)

    # ---------------------------------------------------------- assignments
    def let(self, name: str, expr) -> sp.Symbol:
        """``Z = W A + b`` (an affine map) or ``A = g(Z)`` (an activation), as an expression or a string."""
        where = caller_place()
        expr = self._parse(expr, name, where)
        if isinstance(expr, sp.Symbol):
            return self._activation(name, "identity", expr.name, where)
        if isinstance(expr, (F.Sigmoid, F.Tanh, F.ReLU, AppliedUndef)):
            fname = activation_name(
                type(expr) if not isinstance(expr, AppliedUndef) else expr.func.__name__, where=where
            )
            if len(expr.args) != 1 or not isinstance(expr.args[0], sp.Symbol):
                raise DeclarationError(f"'{name}': an activation applies to one declared quantity", where)
            return self._activation(name, fname, expr.args[0].name, where)
        terms = sp.Add.make_args(expr)
        products = [t for t in terms if isinstance(t, sp.Mul)]
        biases = [t for t in terms if isinstance(t, sp.Symbol)]
        if len(products) == 1 and len(biases) <= 1 and len(terms) == len(products) + len(biases):
            factors = products[0].args
            if len(factors) == 2 and all(isinstance(f, sp.Symbol) for f in factors):
                b = biases[0].name if biases else None
                return self._affine(name, factors[0].name, factors[1].name, b, where)
        raise DeclarationError(f"cannot read '{name} = {expr}' as W A + b or g(Z)", where)

    def affine(self, name: str, W, A, b=None) -> sp.Symbol:
        """``name = W A + b`` (b broadcast over the m columns; omit it for no bias)."""
        return self._affine(name, _name(W), _name(A), None if b is None else _name(b), caller_place())

    def activation(self, name: str, function, Z) -> sp.Symbol:
        """``name = g(Z)``; ``function`` is sigmoid, tanh, relu, softmax or identity (object or string)."""
        where = caller_place()
        return self._activation(name, activation_name(function, where=where), _name(Z), where)

    def cost(self, loss, A=None, Y=None) -> None:
        """The cost ``J = (1/m) Σ L(A, Y)``: ``cost(binary_cross_entropy(A2, Y))`` or ``cost("mse", A2, Y)``."""
        where = caller_place()
        if A is None and Y is None:
            expr = loss
            if not isinstance(expr, sp.Function) or len(expr.args) != 2:
                raise DeclarationError("the cost must be loss(A, Y) with a loss from derive.functions", where)
            loss, (A, Y) = type(expr), expr.args
        lname = loss_name(loss, where)
        a, y = _name(A), _name(Y)
        if self.loss is not None:
            raise DeclarationError("the cost is already declared", where)
        if self.kinds.get(a) != "node" or self._node(a).kind != "activation":
            raise DeclarationError(
                f"the cost must take an activation's output (use identity for a linear one), not '{a}'", where
            )
        if self.kinds.get(y) != "target":
            raise DeclarationError(f"'{y}' in the cost is not a declared target", where)
        sa, sy = self.matrices[a].shape, self.matrices[y].shape
        if sa != sy:
            raise DeclarationError(f"shape mismatch in the cost: {a} is {_shape(sa)} but {y} is {_shape(sy)}", where)
        out = self._node(a).function
        if LOSSES[lname].probabilities and out == "identity":
            raise DeclarationError(f"loss {lname} needs probabilities: output sigmoid or softmax, not identity", where)
        self.loss = lname
        self.cost_operands = (a, y)

    def _affine(self, name, W, A, b, where):
        self._check_new(name, where)
        for operand, kinds in ((W, ("param",)), (A, ("input", "node")), (b, ("param",))):
            if operand is not None and self.kinds.get(operand) not in kinds:
                have = self.kinds.get(operand, "undeclared")
                raise DeclarationError(f"'{operand}' in '{name}' must be a {' or '.join(kinds)} ({have})", where)
        w, a = self.matrices[W].shape, self.matrices[A].shape
        if w[1] != a[0]:
            raise DeclarationError(
                f"shape mismatch in '{name} = {W} {A}{' + ' + b if b else ''}': {W} is {_shape(w)} but {A} is {_shape(a)}"
                f" ({W} needs {a[0]} columns)",
                where,
            )
        if b is not None and self.matrices[b].shape != (w[0], 1):
            raise DeclarationError(
                f"shape mismatch in '{name}': bias {b} is {_shape(self.matrices[b].shape)}, expected {_shape((w[0], 1))}",
                where,
            )
        if A in self.kinds and self.kinds[A] == "node" and self._node(A).kind != "activation":
            raise DeclarationError(
                f"'{A}' in '{name}' must be an activation's output (apply identity for a linear layer)", where
            )
        self._used_once(A, name, where)
        layer = self.layers.get(A, -1) + 1
        self.layers[W] = self.layers[name] = layer
        if b is not None:
            self.layers[b] = layer
        return self._add(VecNode(name, "affine", (W, A) + ((b,) if b else ()), None, where), (w[0], a[1]))

    def _activation(self, name, fname, Z, where):
        self._check_new(name, where)
        if self.kinds.get(Z) != "node" or self._node(Z).kind != "affine":
            raise DeclarationError(f"'{Z}' in '{name} = {fname}({Z})' must be an affine quantity (W A + b)", where)
        if fname == "softmax" and self.size(self.matrices[Z].shape[0]) == 1:
            raise DeclarationError(f"softmax in '{name}' needs at least 2 rows ({Z} has 1)", where)
        self._used_once(Z, name, where)
        self.layers[name] = self.layers[Z]
        return self._add(VecNode(name, "activation", (Z,), fname, where), self.matrices[Z].shape)

    def _used_once(self, operand, name, where):
        if self.kinds.get(operand) == "node" and any(operand in n.operands for n in self.assignments):
            raise DeclarationError(
                f"'{operand}' is used twice ('{name}'); the vectorised derivation needs a chain", where
            )

    def _add(self, node: VecNode, shape) -> sp.Symbol:
        self.kinds[node.name] = "node"
        self.matrices[node.name] = sp.MatrixSymbol(node.name, *shape)
        self.handles[node.name] = sp.Symbol(node.name, commutative=False)
        self.assignments.append(node)
        return self.handles[node.name]

    def _node(self, name) -> VecNode:
        return next(n for n in self.assignments if n.name == name)

    def _parse(self, expr, name, where):
        if isinstance(expr, str):
            local = dict(self.handles)
            local.update({f: sp.Function(f) for f in ACTIVATIONS})
            try:
                expr = sp.sympify(expr.replace("@", "*"), locals=local)
            except (sp.SympifyError, SyntaxError, TypeError) as exc:
                raise DeclarationError(f"cannot read the value of '{name}' ({exc})", where) from None
        if not isinstance(expr, sp.Basic):
            raise DeclarationError(f"the value of '{name}' is not an expression ({type(expr).__name__})", where)
        for sym in expr.free_symbols:
            if sym.name not in self.kinds:
                raise DeclarationError(f"undeclared symbol '{sym.name}' in '{name}'", where)
        return expr

    # ---------------------------------------------------------- queries
    def params(self) -> list[tuple[str, Shape]]:
        """``[(name, symbolic shape)]`` in declaration order (W1, b1, W2, b2, …)."""
        return [(n, self.matrices[n].shape) for n, k in self.kinds.items() if k == "param"]

    def names(self, kind: str) -> list[str]:
        return [n for n, k in self.kinds.items() if k == kind]

    @property
    def sizes(self) -> list[int]:
        """Concrete widths: the input's rows, then each affine layer's rows."""
        first = self.matrices[self.names("input")[0]].shape[0]
        rows = [first] + [self.matrices[n.name].shape[0] for n in self.assignments if n.kind == "affine"]
        return [self.size(r) for r in rows]

    @property
    def activations(self) -> list[str]:
        return [n.function for n in self.assignments if n.kind == "activation"]

    @property
    def hidden(self) -> str | tuple[str, ...] | None:
        """The hidden layers' activation: a name when they all share one (None without hidden layers)."""
        hidden = self.activations[:-1]
        if not hidden:
            return getattr(self, "_hidden", None)
        return hidden[0] if len(set(hidden)) == 1 else tuple(hidden)

    @property
    def output(self) -> str | None:
        return self.activations[-1] if self.activations else None

    def size(self, d) -> int:
        return int(sp.sympify(d).subs(self.dim_sizes))

    def shape_of(self, name: str) -> Shape:
        return self.matrices[name].shape

    def check(self) -> None:
        if self.loss is None:
            raise DeclarationError(f"network '{self.name}' declares no cost (call net.cost(...))")
        if len(self.names("input")) != 1 or len(self.names("target")) != 1:
            raise DeclarationError(f"network '{self.name}' needs exactly one input and one target matrix")

    def derive(self, fuse: bool = False) -> VecDerivation:
        """The vectorised derivation; ``fuse=True`` writes ``dZ = Wᵀ dZ_next ⊙ g'(Z)`` in one line (LECTURES E)."""
        self.check()
        return VecDerivation(self, fuse=fuse)

    def __repr__(self) -> str:
        return f"VecNetwork({self.name!r}: sizes {self.sizes}, {self.activations}, {self.loss})"

    def _repr_latex_(self) -> str:
        """The forward equations, for Jupyter."""
        from .latex import _display, equation_row

        return _display([equation_row(e) for e in self.derive().forward])


def _name(x) -> str:
    if isinstance(x, str):
        return x
    name = getattr(x, "name", None)
    if name is None:
        raise ChainruleError(f"expected a declared quantity, got {x!r}", caller_place())
    return name


def _shape(shape) -> str:
    return f"{shape[0]}×{shape[1]}"


# ---------------------------------------------------------- the derivation
@dataclass
class VecDerivation:
    """Forward and backward equations of a ``VecNetwork``, with the steps that produced them."""

    network: VecNetwork
    fuse: bool = False
    forward: list[Equation] = field(default_factory=list)
    backward: list[Equation] = field(default_factory=list)
    steps: list = field(default_factory=list)

    def __post_init__(self):
        _Deriver(self).run()
        self.steps = Steps(self.steps)

    def __repr__(self) -> str:
        return f"<VecDerivation of {self.network.name!r}: {len(self.forward)} forward, {len(self.backward)} backward equations>"

    def _repr_latex_(self) -> str:
        """The forward and backward equations with their numbers and shapes, for Jupyter."""
        from .latex import vecderivation_latex

        return vecderivation_latex(self)

    @property
    def equations(self) -> list[Equation]:
        return self.forward + self.backward

    def equation(self, target: str) -> Equation:
        for eq in self.equations:
            if eq.target == target:
                return eq
        raise KeyError(target)

    def shapes(self) -> dict[str, Shape]:
        """Every quantity's symbolic shape: leaves, forward quantities, J, backward quantities."""
        out = {name: self.network.matrices[name].shape for name in self.network.kinds}
        for eq in self.equations:
            out[eq.target] = eq.shape
        return out

    def concrete_shapes(self, m: int) -> dict[str, tuple[int, int]]:
        subs = {**self.network.dim_sizes, M: m}
        return {
            k: (int(sp.sympify(r).subs(subs)), int(sp.sympify(c).subs(subs))) for k, (r, c) in self.shapes().items()
        }

    def text(self) -> str:
        """The equations with their shapes, then the steps, one per line."""
        net = self.network
        lines = [f"# {net.name}: sizes {'-'.join(map(str, net.sizes))}, {', '.join(net.activations)}, {net.loss}"]
        for title, eqs in (("forward", self.forward), ("backward", self.backward)):
            lines.append(f"{title}:")
            width = max(len(e.text) for e in eqs)
            for e in eqs:
                lines.append(f"  {f'({e.number})':>4} {e.text:<{width}}   {_shape(e.shape)}")
        if not self.fuse and any(e.kind == "backprop" for e in self.backward):
            lines.append("combined, as the lecture writes dZ:")
            fused = VecDerivation(net, fuse=True)
            lines.extend(
                f"       {e.text}" for e in fused.backward if e.kind == "activation_grad" and len(e.operands) > 2
            )
        lines.append("steps:")
        lines.extend(f"  {s}" for s in self.steps)
        return "\n".join(lines) + "\n"


class _Deriver:
    """Reverse pass over the program: each adjoint pulled back through one operation."""

    def __init__(self, d: VecDerivation):
        self.d, self.net = d, d.network
        self.mat = self.net.matrices
        self.adjoints: dict[str, sp.MatrixSymbol] = {}

    def run(self) -> None:
        net, d = self.net, self.d
        for node in net.assignments:
            value = self.value(node)
            function = node.function if node.kind == "activation" else None
            self.emit(d.forward, node.name, node.kind, node.operands, function, value)
        A, Y = net.cost_operands
        J = sp.MatMul(1 / M, LossSum(net.loss, self.mat[A], self.mat[Y]))
        cost = LOSSES[net.loss].cost.format(A=A, Y=Y)
        self.emit(d.forward, "J", "loss", (A, Y), net.loss, J, text=cost)
        d.steps.append(
            Convention(
                "dQ is ∂L/∂Q per example, stacked in columns, so ∂J/∂Q = (1/m) dQ for J = (1/m) Σ L;"
                " a parameter's dW is ∂J/∂W itself"
            )
        )
        self.output_layer(A, Y)
        for node in reversed(net.assignments):
            if node.name == A:
                continue
            if node.kind == "affine":
                self.affine(node)
            else:
                self.activation(node, self.adjoint(node.name))
        if d.fuse:
            self.fuse()

    # ------------------------------------------------------------ helpers
    def value(self, node: VecNode):
        m = self.mat
        if node.kind == "activation":
            return Apply(node.function, m[node.operands[0]])
        W, A = m[node.operands[0]], m[node.operands[1]]
        product = W * A
        if len(node.operands) == 3:
            return product + m[node.operands[2]] * OneMatrix(1, M)
        return product

    def adjoint(self, name: str) -> sp.MatrixSymbol:
        if name not in self.adjoints:
            self.adjoints[name] = sp.MatrixSymbol(f"d{name}", *self.mat[name].shape)
        return self.adjoints[name]

    def emit(self, into, target, kind, operands, function, expr, text=None, layer=None):
        number = len(self.d.forward) + len(self.d.backward) + 1
        shape = tuple(expr.shape)
        base = target[1:] if target.startswith("d") and target[1:] in self.net.kinds else target
        if base in self.mat and base != target and tuple(self.mat[base].shape) != shape:
            raise AssertionError(f"{target} has shape {shape}, {base} has {self.mat[base].shape}")
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
        )
        into.append(eq)
        return eq

    # ------------------------------------------------------------- layers
    def output_layer(self, A: str, Y: str) -> None:
        net, d = self.net, self.d
        node = net._node(A)
        Z, g, loss = node.operands[0], node.function, LOSSES[net.loss]
        a, y = self.mat[A], self.mat[Y]
        dA_value = loss.grad(a, y)
        raw = ACTIVATIONS[g].vjp(self.adjoint(A), a, self.mat[Z])
        substituted = raw.xreplace({self.adjoint(A): dA_value})
        d.steps.append(VecChainRule(f"d{A}", "J", LossSum(net.loss, a, y), dA_value, f"{WHY['loss']}; {loss.why}"))
        d.steps.append(VecChainRule(f"d{Z}", A, Apply(g, self.mat[Z]), raw, self.activation_why(g)))
        checked = cancellation(substituted, a, y)
        if checked is not None:
            kind, entry = checked
            after = a - y
            reason = CANCELLATIONS.get((g, net.loss), "entry-wise simplification")
            d.steps.append(Cancellation(f"d{Z}", substituted, after, reason, kind, entry))
            self.adjoint(Z)
            self.emit(d.backward, f"d{Z}", "output_delta", (A, Y), g, after)
            return
        self.emit(d.backward, f"d{A}", "loss_grad", (A, Y), net.loss, dA_value)
        self.emit(d.backward, f"d{Z}", "activation_grad", _used(raw, self.adjoint(A).name, A, Z), g, raw)
        self.adjoint(Z)

    def activation_why(self, g: str) -> str:
        return WHY["softmax"] if g == "softmax" else f"{WHY['activation']}; {ACTIVATIONS[g].why}"

    def activation(self, node: VecNode, G) -> None:
        Z = node.operands[0]
        raw = ACTIVATIONS[node.function].vjp(G, self.mat[node.name], self.mat[Z])
        self.d.steps.append(VecChainRule(f"d{Z}", node.name, self.value(node), raw, self.activation_why(node.function)))
        self.emit(self.d.backward, f"d{Z}", "activation_grad", _used(raw, G.name, node.name, Z), node.function, raw)
        self.adjoint(Z)

    def affine(self, node: VecNode) -> None:
        G = self.adjoint(node.name)
        definition = self.value(node)
        found = {sym.name: (expr, why) for sym, expr, why in pull_back(definition, G)}
        W, A = node.operands[:2]
        order = [(W, "weight_grad")] + ([(node.operands[2], "bias_grad")] if len(node.operands) == 3 else [])
        for param, kind in order:
            expr, why = found[param]
            grad = sp.MatMul(1 / M, expr) if not isinstance(expr, sp.MatMul) else sp.MatMul(1 / M, *expr.args)
            self.d.steps.append(VecChainRule(f"d{param}", node.name, definition, grad, f"{WHY[why]}; (1/m) for J"))
            operands = (G.name, A) if kind == "weight_grad" else (G.name,)
            self.emit(self.d.backward, f"d{param}", kind, operands, None, grad)
        if self.net.kinds[A] == "node":
            expr, why = found[A]
            self.d.steps.append(VecChainRule(f"d{A}", node.name, definition, expr, WHY[why]))
            self.emit(self.d.backward, f"d{A}", "backprop", (W, G.name), None, expr)
            self.adjoint(A)

    def fuse(self) -> None:
        """Write each ``dA = Wᵀ dZ`` into the next ``dZ = dA ⊙ g'(Z)`` (the lecture's one line)."""
        out, pending = [], {}
        for eq in self.d.backward:
            if eq.kind == "backprop":
                pending[eq.target] = eq
                continue
            if eq.kind == "activation_grad" and eq.operands and eq.operands[0] in pending:
                bp = pending.pop(eq.operands[0])
                expr = eq.expr.xreplace({self.adjoint(eq.operands[0][1:]): bp.expr})
                operands = bp.operands + eq.operands[1:]
                eq = Equation(
                    0,
                    eq.target,
                    eq.kind,
                    operands,
                    eq.function,
                    eq.shape,
                    expr,
                    f"{eq.target} = {matrix_text(expr)}",
                    eq.layer,
                )
            out.append(eq)
        start = len(self.d.forward) + 1
        self.d.backward = [_renumber(eq, start + i) for i, eq in enumerate(out)]


def _renumber(eq: Equation, number: int) -> Equation:
    return Equation(number, eq.target, eq.kind, eq.operands, eq.function, eq.shape, eq.expr, eq.text, eq.layer)


def _used(expr, *names) -> tuple[str, ...]:
    """Those of ``names`` that ``expr`` mentions, in the given order."""
    present = {s.name for s in expr.atoms(sp.MatrixSymbol)}
    return tuple(n for n in names if n in present)


def cancellation(expr, A, Y, rows: int = 3):
    """Whether ``expr`` (in A and Y) equals ``A − Y`` entry by entry: ``("cancel" | "one-hot", entry)`` or None.

    Checked on an explicit column of ``rows`` entries (the identity is the same
    for every width); "one-hot" when it needs each column of Y to sum to 1.
    """
    from .vecnumeric import SymPyEvaluator

    a = sp.Matrix(sp.symbols(f"a1:{rows + 1}"))
    y = sp.Matrix(sp.symbols(f"y1:{rows + 1}"))
    dims = {A.shape[0]: rows, M: 1}
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
