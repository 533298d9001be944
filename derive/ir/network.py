"""Vectorised (layer-level) networks and their derivation: the IR the NumPy emitter reads.

Lecture convention (Ng, deeplearning.ai course 1): ``X`` is n0×m (one column per example),
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

Any matrix program over the op table is accepted, not only ``W A + b`` /
``g(Z)`` chains: sums with broadcasting (``H = A2 + A1``), ``hadamard``,
``transpose``, ``sum_columns``, ``mean_columns``, ``sum_rows``, scalar
multiples, constants (``net.constant("lam", 0.01)``) and a cost with further
terms (``binary_cross_entropy(A2, Y) + lam/(2*net.m) * frobenius_sq(W2)``).
A quantity may be used any number of times; its adjoint is the sum over its
uses.  The backward pass is one reverse sweep (``derive.ir.backprop``): every
equation is the pull-back of an adjoint through one op by a rule of the op
table (``derive.ops``; no textbook formula is pasted).  For a matched
output/loss pair (sigmoid + BCE, softmax + CE, identity + MSE) the output
delta is checked entry by entry to collapse to ``A_L − Y`` and recorded as a
``Cancellation`` step.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass, field, replace

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from ..errors import ChainruleError, DeclarationError, caller_frame, caller_place, check_finite, check_title, shown
from ..functions import PUBLIC
from ..names import check_constant_names, check_name, pre_activation_name
from ..ops import Apply, LossSum, record_of
from ..ops.activations.identity import Identity
from ..ops.names import activation_name, loss_name
from ..printing.matrix import matrix_text
from ..steps import Steps
from .backprop import Assignment, Sweep, cancellation, names_in
from .equation import Equation, Term
from .images import image_of
from .lower import Lowering, is_matrix, shape_text
from .recurrence import BPTT, Recurrence, carried_values, check_step_reads, order, readable_text
from .rewrites import rewrite_normalisations
from .vocabulary import VOCABULARY
from .written_out import losses_written_out

__all__ = ["Equation", "M", "Term", "VecDerivation", "VecNetwork", "cancellation"]

M = sp.Symbol("m", positive=True, integer=True)  # examples per batch (columns)
Shape = tuple[sp.Expr, sp.Expr]


class VecNetwork:
    """A layer-level network: named matrix assignments with symbolic shapes, and a scalar cost."""

    def __init__(self, name: str, doc: str = ""):
        check_title(name, doc, caller_place())
        self.name = name
        self.doc = doc
        self.m = M
        self.dim_sizes: dict[sp.Symbol, int] = {}
        self.kinds: dict[str, str] = {}  # name -> input | target | param | constant | node
        self.matrices: dict[str, sp.MatrixSymbol] = {}
        self.handles: dict[str, sp.Symbol] = {}
        self.constants: dict[str, sp.Symbol] = {}
        self.constant_values: dict[str, float] = {}
        self.assignments: list[Assignment] = []  # in program order
        self.cost_expr: sp.MatrixExpr | None = None  # J, 1×1
        self.classic_cost = False  # J = (1/m) Σ L(A, Y) and nothing else
        self.loss: str | None = None  # the data term's loss, by name
        self.cost_operands: tuple[str, str] | None = None  # (A_L, Y) of the data term
        self.layers: dict[str, int] = {}  # quantity -> layer number
        self.masks: dict[str, sp.Basic] = {}  # dropout mask -> its keep probability (a constant's symbol)
        self.index_inputs: dict[str, sp.Symbol] = {}  # word-index input -> its vocabulary size
        self.images: dict[str, tuple] = {}  # quantity with one image per column -> (C, H, W) (derive.ir.images)
        self.filter_banks: dict[str, tuple] = {}  # filter-bank parameter -> (F, C, HH, WW)
        self.recurrence: Recurrence | None = None  # a sequence's one declared step (derive.ir.recurrence)

    # --------------------------------------------------------- dimensions
    def dims(self, **sizes: int):
        """Declare shape symbols with their concrete sizes: ``n0, n1 = net.dims(n0=2, n1=3)``."""
        where = caller_place()
        out = []
        for name, size in sizes.items():
            if name == "m" or any(s.name == name for s in self.dim_sizes):
                raise DeclarationError(f"dimension '{name}' is declared twice (or is the batch size m)", where)
            if name in self.kinds:
                raise DeclarationError(f"dimension '{name}' is defined twice (already a {self.kinds[name]})", where)
            check_name(name, [s.name for s in self.dim_sizes] + list(self.kinds), where, reserved=("J",))
            if not (isinstance(size, int) and not isinstance(size, bool) and size >= 1):
                raise DeclarationError(f"size of '{name}' must be a positive integer, got {size!r}", where)
            sym = sp.Symbol(name, positive=True, integer=True)
            self.dim_sizes[sym] = size
            out.append(sym)
        return out[0] if len(out) == 1 else tuple(out)

    # --------------------------------------------------------------- time
    def sequence(self, name: str, size: int) -> sp.Symbol:
        """The sequence length T (a dimension, ``size`` in generated code): the network runs one declared
        step for t = 1 … T (``with net.step(): …``), backpropagated through time."""
        where = caller_place()
        if self.recurrence is not None:
            raise DeclarationError("the sequence is already declared", where)
        T = self.dims(**{name: size})
        self.recurrence = Recurrence(T)
        return T

    @contextmanager
    def step(self):
        """The body of one time step t: inputs, targets and quantities declared inside exist at every t;
        ``net.state(...)`` reads the previous step's value.  After the block a state's name is its last value."""
        where = caller_place()
        rec = self.recurrence
        if rec is None:
            raise DeclarationError("net.step() needs the sequence length first: T = net.sequence('T', size)", where)
        if rec.open or rec.closed:
            raise DeclarationError("a network declares one step", where)
        rec.open = True
        try:
            yield rec
        finally:
            rec.open, rec.closed = False, True
        missing = [h for h in rec.states if h not in self.kinds]
        if missing:
            raise DeclarationError(
                f"the state '{missing[0]}' is declared but never updated: net.let('{missing[0]}', …)", where
            )

    def state(self, name: str, rows) -> sp.Symbol:
        """A state carried from step to step (h, rows × m, with h_0 = 0): returns h_{t−1}, named
        ``<name>_prev``; ``net.let(name, …)`` inside the step gives h_t."""
        where = caller_place()
        rec = self.recurrence
        if rec is None or not rec.open:
            raise DeclarationError(f"state '{name}' must be declared inside 'with net.step():'", where)
        self._check_new(name, where)
        prev = f"{name}_prev"
        handle = self._leaf(prev, "state", (self._dim(rows, name), M), where)
        rec.states[name] = prev
        return handle

    # ------------------------------------------------------------- leaves
    def input(self, name: str, rows) -> sp.Symbol:
        """An input matrix (rows × m), one column per example: the data X, or a mask."""
        return self._leaf(name, "input", (self._dim(rows, name), M), caller_place())

    def mask(self, name: str, rows, keep) -> sp.Symbol:
        """A dropout mask D (rows × m): each entry 1 with probability ``keep``, else 0 (cs231n; Ng, course 2).

        Training draws a fresh mask for every step, ``D = (rand < keep)``;
        prediction uses none: D is replaced by its expectation ``keep``, which
        the inverted-dropout scaling ``A ⊙ D / keep`` cancels.  ``keep`` is a
        constant declared with ``net.constant`` (or a number in (0, 1]).
        """
        where = caller_place()
        if isinstance(keep, sp.Symbol) and keep.name in self.constants and self.constants[keep.name] == keep:
            value = self.constant_values[keep.name]
        elif isinstance(keep, (int, float)) and not isinstance(keep, bool):
            value = float(keep)
            keep = sp.Float(value)
        else:
            raise DeclarationError(f"the keep probability of mask '{name}' must be a constant or a number", where)
        if not 0 < value <= 1:
            raise DeclarationError(f"the keep probability of mask '{name}' must be in (0, 1], got {value}", where)
        handle = self._leaf(name, "mask", (self._dim(rows, name), M), where)
        self.masks[name] = keep
        return handle

    def indices(self, name: str, rows, vocab) -> sp.Symbol:
        """Word indices (rows × m integers in 0 … vocab − 1, 0 for padding), one column per text: the
        input of ``embed(E, W)``; ``vocab`` is the dimension of the vocabulary size |V|."""
        where = caller_place()
        shape = (self._dim(rows, name), M)
        self.index_inputs[name] = self._dim(vocab, name)
        return self._leaf(name, "input", shape, where)

    def image(self, name: str, channels, height, width) -> sp.Symbol:
        """An input of images, (C·H·W)×m: one C×H×W image per column, entry c·H·W + h·W + w of column n its
        pixel (h, w) of channel c (cs231n's x[n, c, h, w]; ``derive.ir.images``)."""
        where = caller_place()
        C, H, W = (self._dim(d, name) for d in (channels, height, width))
        handle = self._leaf(name, "input", (C * H * W, M), where)
        self.images[name] = (C, H, W)
        return handle

    def filters(self, name: str, count, channels, height, width) -> sp.Symbol:
        """A bank of F filters of C×HH×WW for ``conv2d``: the F×(C·HH·WW) parameter whose row f is filter f
        flattened in (c, k, l) order (cs231n's ``w.reshape(F, -1)``); HH and WW are dimensions or numbers."""
        where = caller_place()
        F, C = self._dim(count, name), self._dim(channels, name)
        HH, WW = (self._window(k, name, where) for k in (height, width))
        handle = self._leaf(name, "param", (F, C * HH * WW), where)
        self.filter_banks[name] = (F, C, HH, WW)
        return handle

    def _window(self, k, name, where):
        if isinstance(k, int) and not isinstance(k, bool) and k >= 1:
            return sp.Integer(k)
        if isinstance(k, sp.Symbol) and k in self.dim_sizes:
            return k
        raise DeclarationError(
            f"the filter size of '{name}' must be a whole number ≥ 1 or a dimension, got {k!r}", where
        )

    def target(self, name: str, rows) -> sp.Symbol:
        """The target matrix (rows × m)."""
        return self._leaf(name, "target", (self._dim(rows, name), M), caller_place())

    def param(self, name: str, shape) -> sp.Symbol:
        """A trainable matrix of shape ``(rows, cols)`` (``(n1, 1)`` for a bias)."""
        where = caller_place()
        if not (isinstance(shape, (tuple, list)) and len(shape) == 2):
            raise DeclarationError(f"shape of '{name}' must be (rows, cols), got {shape!r}", where)
        return self._leaf(name, "param", (self._dim(shape[0], name), self._dim(shape[1], name)), where)

    def constant(self, name: str, value) -> sp.Symbol:
        """A hyperparameter (λ, keep_prob, ε): printed as its symbol, ``value`` in generated code."""
        where = caller_place()
        self._check_new(name, where)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise DeclarationError(f"the value of constant '{name}' must be a number, got {value!r}", where) from None
        if not math.isfinite(number):
            raise DeclarationError(f"the value of constant '{name}' must be finite, got {value!r}", where)
        check_constant_names(name, self.constant_values, where)
        self.kinds[name] = "constant"
        self.constants[name] = sp.Symbol(name, real=True)
        self.constant_values[name] = number
        return self.constants[name]

    def _dim(self, d, name):
        if d == 1:
            return sp.S.One
        if isinstance(d, sp.Symbol) and d in self.dim_sizes:
            return d
        if isinstance(d, sp.Expr) and d.free_symbols and d.free_symbols <= set(self.dim_sizes):
            return d  # a product or sum of dimensions: n·d rows of stacked word vectors
        raise DeclarationError(
            f"shape of '{name}' uses {d!r}, not a dimension declared with net.dims(...)", caller_place()
        )

    def _leaf(self, name, kind, shape, where):
        self._check_new(name, where)
        self.kinds[name] = kind
        if self.recurrence is not None and self.recurrence.open and kind != "param":
            self.recurrence.per_step.append(name)
        self.matrices[name] = sp.MatrixSymbol(name, *shape)
        self.handles[name] = sp.Symbol(name, commutative=False)
        return self.handles[name]

    def _check_new(self, name, where):
        if not (isinstance(name, str) and name.isidentifier()):
            raise DeclarationError(f"{shown(name)} is not a valid name", where)
        dims = [s.name for s in self.dim_sizes]
        if name in self.kinds or name in ("m", "J") or name in dims:
            have = self.kinds.get(name, "dimension" if name in dims else "reserved name")
            raise DeclarationError(f"'{name}' is defined twice (already a {have})", where)
        check_name(name, list(self.kinds) + dims, where, reserved=("m", "J"))
        if self.cost_expr is not None:
            raise DeclarationError(f"'{name}' is declared after the cost", where)

    # ---------------------------------------------------------- assignments
    def let(self, name: str, expr) -> sp.Symbol:
        """``name = expr``: any matrix expression over the op table, as an expression or a string."""
        where = caller_place()
        self._check_new(name, where)
        value = Lowering(self, name, where)(self._user_names(self._parse(expr, name, where), where))
        if not is_matrix(value):
            raise DeclarationError(f"the value of '{name}' is a scalar; only the cost may be a scalar", where)
        if value.shape == (1, 1) and any(isinstance(a, LossSum) for a in sp.preorder_traversal(value)):
            raise DeclarationError(f"'{name}' is a cost term; give it to net.cost(...)", where)
        return self._assign(name, self._name_parts(name, value, where), where)

    # ------------------------------------------------------ unnamed parts
    def _user_names(self, expr, where):
        """``expr`` with each part the user's program holds in a variable of its own declared under that name:
        ``H1 = gelu(W1 @ X + b1)`` then ``net.cost(mse(W2 @ H1, Y))`` declares ``H1`` as if by ``net.let("H1", …)``
        (inner parts first), so the equations read with the program's own names."""
        frame = caller_frame()
        if frame is None or not isinstance(expr, sp.Basic):
            return expr
        parts = {node for node in sp.preorder_traversal(expr) if not node.is_Atom and node != expr}
        held = sorted(
            (
                (_size(value), name, value)
                for name, value in frame.f_locals.items()
                if isinstance(value, sp.Expr)
                and (value in parts or _in_a_sum(expr, value))
                and not value.is_commutative
            ),
            key=lambda t: (t[0], t[1]),
        )
        done: list = []  # (the part as written, its name), inner first
        for _, name, value in held:
            for part, handle in done:
                value = _written_with(value, part, handle)
            if not self._free_name(name) or not (expr.has(value) or _in_a_sum(expr, value)):
                continue
            try:
                lowered = Lowering(self, name, where)(value)
            except DeclarationError:
                continue  # the whole expression's own lowering says what is wrong
            if not is_matrix(lowered) or any(isinstance(a, LossSum) for a in sp.preorder_traversal(lowered)):
                continue  # a cost term, not a quantity
            handle = self._assign(name, self._name_parts(name, lowered, where), where)
            done.append((value, handle))
            expr = _written_with(expr, value, handle)
        return expr

    def _free_name(self, name: str) -> bool:
        """``name`` may be declared (a valid identifier, not taken, not reserved or a dimension's)."""
        if not name.isidentifier() or name.startswith("_") or name in self.kinds or name in ("m", "J"):
            return False
        if name in {s.name for s in self.dim_sizes} or name in self.constants or self.cost_expr is not None:
            return False
        try:
            check_name(name, list(self.kinds), None, reserved=("m", "J"))
        except ChainruleError:
            return False
        return True

    def _name_parts(self, name: str, value, where):
        """``value`` with every activation's unnamed argument named: ``z = σ(Wz x + Uz h + bz)`` declares the
        pre-activation ``Z_z = Wz x + Uz h + bz`` first, so the derivation writes ``dZ_z = dz ⊙ z ⊙ (1 − z)`` as a
        lecturer does.  The argument of the activation that is ``value`` itself takes the lecture's name (A1 →
        Z1, ŷ → z, else Z_<name>).  An activation inside ``value`` (``v @ silu(W @ X + b) + c``) is a layer of its
        own, inner first: ``Z1 = W X + b``, ``A1 = SiLU(Z1)`` (the first number whose Z and A are free), and
        ``value`` reads ``v A1 + c``."""

        def todo(expr) -> list:
            """Each activation of ``expr`` still to name, inner first, each once: an inner one, and ``expr`` itself
            when its argument is not a name."""
            found = []
            for node in sp.postorder_traversal(expr):
                if not isinstance(node, Apply) or node.record.helper or node in found:
                    continue
                if not isinstance(node.arg, sp.MatrixSymbol):  # tanh(c) inside Γo ⊙ tanh(c) reads as it is
                    found.append(node)
            return found

        def multiplied(expr, node) -> bool:
            """``node`` is a factor of a matrix product in ``expr``: a layer feeding a linear map."""
            return any(isinstance(p, sp.MatMul) and node in p.args for p in sp.preorder_traversal(expr))

        single = len(todo(value)) == 1
        layer = 0
        while parts := todo(value):
            node = parts[0]  # inner first: its argument holds no activation to name any more
            if node != value or not single:
                layer += 1
                while not (self._free_name(f"Z{layer}") and self._free_name(f"A{layer}")):
                    layer += 1
            if node == value or not multiplied(value, node):  # H2 = LeakyReLU(Z2) + H1 reads as it is
                z = self._fresh(pre_activation_name(name) if node == value or single else f"Z{layer}")
                self._assign(z, node.arg, where)
                # every use of it, and the same argument written again (np.maximum(0, Z) + np.logaddexp(0, Z))
                value = value.xreplace({node: Apply(node.args[0], self.matrices[z])}).xreplace(
                    {node.arg: self.matrices[z]}
                )
                continue
            z = self._assign(f"Z{layer}", node.arg, where)
            a = self._assign(f"A{layer}", Apply(node.args[0], self.matrices[_name(z)]), where)
            value = value.xreplace({node: self.matrices[_name(a)]}).xreplace({node.arg: self.matrices[_name(z)]})
        return value

    def _fresh(self, name: str) -> str:
        """``name``, or ``name_2``, ``name_3`` … whichever is not declared yet."""
        if name not in self.kinds and name not in ("m", "J"):
            return name
        k = 2
        while f"{name}_{k}" in self.kinds:
            k += 1
        return f"{name}_{k}"

    def affine(self, name: str, W, A, b=None) -> sp.Symbol:
        """``name = W A + b`` (b broadcast over the m columns; omit it for no bias)."""
        where = caller_place()
        self._check_new(name, where)
        h = {n: sp.Symbol(n, commutative=False) for n in (_name(W), _name(A)) + ((_name(b),) if b is not None else ())}
        expr = h[_name(W)] * h[_name(A)] + (h[_name(b)] if b is not None else 0)
        return self._assign(name, Lowering(self, name, where)(expr), where)

    def activation(self, name: str, function, Z) -> sp.Symbol:
        """``name = g(Z)``; ``function`` is sigmoid, tanh, relu, softmax or identity (object or string)."""
        where = caller_place()
        self._check_new(name, where)
        g = activation_name(function, where=where)
        z = _name(Z)
        if self.kinds.get(z) not in ("input", "node", "param"):
            raise DeclarationError(f"undeclared symbol '{z}' in '{name}'", where)
        need = record_of(g).min_rows
        if self.size(self.matrices[z].shape[0]) < need:
            raise DeclarationError(f"{g} in '{name}' needs at least {need} rows ({z} has 1)", where)
        return self._assign(name, Apply(g, self.matrices[z]), where)

    def _assign(self, name, value, where) -> sp.Symbol:
        check_step_reads(self, name, value, where)
        rec = self.recurrence
        if rec is not None and rec.open and name in rec.states:
            before = self.matrices[rec.states[name]].shape
            if value.shape != before:
                raise DeclarationError(
                    f"the state '{name}' is {shape_text(before)} (net.state) but its update here is "
                    f"{shape_text(value.shape)}: a state keeps its shape from step to step",
                    where,
                )
        if rec is not None and rec.open:
            rec.per_step.append(name)
        elif rec is not None and name in rec.states:
            raise DeclarationError(f"the state '{name}' must be updated inside the step", where)
        if isinstance(value, sp.MatrixSymbol):
            value = Apply(Identity, value)  # a linear layer: the identity activation
        kind, operands, function = _classify(value, self.kinds)
        if kind == "affine":
            layer = self.layers.get(operands[1], -1) + 1
            for q in (operands[0], name) + operands[2:]:
                self.layers[q] = layer
        elif kind == "activation" and operands[0] in self.layers:
            self.layers[name] = self.layers[operands[0]]
        else:
            known = [self.layers[n] for n in operands if self.kinds.get(n) == "node" and n in self.layers]
            if known:
                self.layers[name] = max(known)
        self.kinds[name] = "node"
        self.matrices[name] = sp.MatrixSymbol(name, *value.shape)
        self.handles[name] = sp.Symbol(name, commutative=False)
        self.assignments.append(Assignment(name, kind, operands, function, value, where))
        image = image_of(self, value)
        if image is not None:
            self.images[name] = image
        return self.handles[name]

    def cost(self, loss, A=None, Y=None) -> None:
        """The scalar cost J: ``cost(binary_cross_entropy(A2, Y))``, ``cost("mse", A2, Y)``, or any
        scalar expression such as ``binary_cross_entropy(A2, Y) + lam/(2*net.m) * frobenius_sq(W2)``.
        A loss of matrices is the batch cost ``(1/m) Σ_columns L``."""
        where = caller_place()
        if self.cost_expr is not None:
            raise DeclarationError("the cost is already declared", where)
        if A is not None or Y is not None:
            lname = loss_name(loss, where)
            a, y = _name(A), _name(Y)
            value = self._lower_loss(lname, a, y, where)
        else:
            expr = self._user_names(self._parse(loss, "the cost", where), where)
            value = Lowering(self, "the cost", where)(losses_written_out(self, expr, where))
            value = self._name_outputs(value, where)
        value = self._input_as_target(value, where)
        if not (is_matrix(value) and value.shape == (1, 1)):
            shape = shape_text(value.shape) if is_matrix(value) else "scalar without a loss"
            raise DeclarationError(f"the cost must be a scalar (1×1) with a loss term, got {shape}", where)
        data = [t for t in sp.preorder_traversal(value) if isinstance(t, LossSum)]
        if len(data) == 1:
            self._check_loss(data[0], where)
            self.loss = data[0].loss
            self.cost_operands = (data[0].args[1].name, data[0].args[2].name)
        elif not data:
            raise DeclarationError("the cost has no loss term (binary_cross_entropy, cross_entropy or mse)", where)
        self.classic_cost = len(data) == 1 and value == sp.MatMul(1 / M, data[0])
        if self.recurrence is not None:
            self._check_time_cost(value, where)
        self.cost_expr = value

    def _name_outputs(self, value, where):
        """The cost with the output of each loss named where the declaration left it unnamed
        (``cross_entropy(softmax(W3 @ A2 + b3), Y)``): A3 after A1, A2, else ŷ (``Yhat``), with its
        pre-activation (Z3, Z) named as ``let`` names it."""
        for term in [t for t in sp.preorder_traversal(value) if isinstance(t, LossSum)]:
            A, Y = term.args[1], term.args[2]
            if isinstance(A, sp.MatrixSymbol):
                continue
            name = self._fresh(self._output_name(Y))
            self._assign(name, self._name_parts(name, A, where), where)
            value = value.xreplace({term: LossSum(term.args[0], self.matrices[name], Y)})
        return value

    def _input_as_target(self, value, where):
        """A loss whose target is an input (``binary_cross_entropy(Xhat, X)``, an autoencoder) reads a target Y
        declared here, the input itself (Y = X), as the lecture's autoencoder declares it; its demo data
        reconstructs X."""
        from ..training import Training, training_of, with_training

        for term in [t for t in sp.preorder_traversal(value) if isinstance(t, LossSum)]:
            X = term.args[2]
            if not (isinstance(X, sp.MatrixSymbol) and self.kinds.get(X.name) == "input") or self.names("target"):
                continue
            y = self._fresh("Y")
            self._leaf(y, "target", X.shape, where)
            value = value.xreplace({term: LossSum(term.args[0], term.args[1], self.matrices[y])})
            self.reconstructs = X.name
            if training_of(self) == Training():
                with_training(self, reconstruct=True)
        return value

    def _output_name(self, Y) -> str:
        """A3 when the network's layers are A1, A2; else the target's name with a hat (Yhat, yhat)."""
        layers = sorted(int(n[1:]) for n in self.kinds if n[:1] == "A" and n[1:].isdigit())
        if layers:
            return f"A{layers[-1] + 1}"
        y = getattr(Y, "name", "Y")
        return f"{y}hat" if len(y) == 1 and y.isalpha() else "Yhat"

    def _check_time_cost(self, value, where) -> None:
        """A loss of per-step quantities is summed over t; nothing else in the cost may read a step."""
        rec = self.recurrence
        if rec.open:
            raise DeclarationError("the cost is declared after the step (outside 'with net.step():')", where)
        a, y = self.cost_operands
        if rec.is_step(a) != rec.is_step(y):
            inside, outside = (a, y) if rec.is_step(a) else (y, a)
            raise DeclarationError(
                f"the loss pairs '{inside}', a quantity of each step, with '{outside}', which is not", where
            )
        rest = value.xreplace({t: sp.ZeroMatrix(1, 1) for t in sp.preorder_traversal(value) if isinstance(t, LossSum)})
        check_step_reads(self, "the cost", rest, where)

    def _lower_loss(self, lname, a, y, where):
        for q in (a, y):
            if q not in self.matrices:
                raise DeclarationError(f"undeclared symbol '{q}' in the cost", where)
        A, Y = self.matrices[a], self.matrices[y]
        if A.shape != Y.shape:
            raise DeclarationError(
                f"shape mismatch in the cost: {a} is {shape_text(A.shape)} but {y} is {shape_text(Y.shape)}", where
            )
        return sp.MatMul(1 / M, LossSum(lname, A, Y))

    def _check_loss(self, term: LossSum, where) -> None:
        A, Y = term.args[1], term.args[2]
        if not (isinstance(A, sp.MatrixSymbol) and isinstance(Y, sp.MatrixSymbol)):
            raise DeclarationError("a loss in the cost takes a named output and a target", where)
        a, y = A.name, Y.name
        if not self.target_only(y):
            raise DeclarationError(f"'{y}' in the cost is not a declared target (or a quantity of targets only)", where)
        node = self.assignment(a) if self.kinds.get(a) == "node" else None
        if node is None:
            raise DeclarationError(
                f"the cost must take a quantity the network computes, not the {self.kinds.get(a, 'name')} '{a}'",
                where,
            )
        output = record_of(node.function) if node.kind == "activation" else None
        if term.record.probabilities and not (output and output.probability):
            raise DeclarationError(
                f"loss {term.loss} needs probabilities: output sigmoid or softmax, not"
                f" {output.name if output else 'the linear ' + a}",
                where,
            )

    def _parse(self, expr, name, where):
        if isinstance(expr, str):
            local = dict(self.handles)
            local.update(self.constants)
            local.update(PUBLIC)
            local.update(VOCABULARY)
            local["m"] = M
            try:
                expr = sp.sympify(expr.replace("@", "*"), locals=local)
            except (sp.SympifyError, SyntaxError, TypeError) as exc:
                raise DeclarationError(f"cannot read the value of '{name}' ({exc})", where) from None
        if isinstance(expr, (tuple, list)) and len(expr) == 1:
            expr = expr[0]
        if not isinstance(expr, sp.Basic):
            raise DeclarationError(f"the value of '{name}' is not an expression ({type(expr).__name__})", where)
        check_finite(expr, name, where)
        for sym in sorted(expr.free_symbols, key=lambda s: s.name):
            if sym.name == name:
                raise DeclarationError(f"'{name}' is defined in terms of itself (a cycle)", where)
            if sym != M and sym.name not in self.kinds and sym not in self.dim_sizes:
                raise DeclarationError(f"undeclared symbol '{sym.name}' in '{name}'", where)
        return expr

    # ---------------------------------------------------------- queries
    def target_only(self, name: str) -> bool:
        """Whether ``name`` is a target, or computed from targets and constants alone (a smoothed target)."""
        kind = self.kinds.get(name)
        if kind == "target":
            return True
        if kind != "node":
            return False
        return all(self.target_only(n) for n in names_in(self.assignment(name).value))

    @property
    def statistics(self) -> list[str]:
        """The batch statistics: quantities that are a mean over the batch's m columns (batch norm's μ, σ²).

        Training computes them from the batch; prediction uses their running
        averages instead (``running_<name>``), as cs231n's and PyTorch's batch norm do.
        """
        out = []
        for a in self.assignments:
            v = a.value
            if isinstance(v, sp.MatMul):
                scalar, factors = v.as_coeff_matrices()
                last = factors[-1]
                if isinstance(last, OneMatrix) and last.shape == (M, 1) and scalar == 1 / M:
                    out.append(a.name)
        return out

    def assignment(self, name: str) -> Assignment:
        return next(a for a in self.assignments if a.name == name)

    def params(self) -> list[tuple[str, Shape]]:
        """``[(name, symbolic shape)]`` in declaration order (W1, b1, W2, b2, …)."""
        return [(n, self.matrices[n].shape) for n, k in self.kinds.items() if k == "param"]

    def names(self, kind: str) -> list[str]:
        return [n for n, k in self.kinds.items() if k == kind]

    @property
    def chain(self) -> bool:
        """Whether the program is the lecture's MLP: affine maps and activations alternating, each used once,
        and the cost J = (1/m) Σ L(A_L, Y)."""
        uses = [op for a in self.assignments for op in a.operands if self.kinds.get(op) == "node"]
        return (
            self.classic_cost
            and all(a.kind in ("affine", "activation") for a in self.assignments)
            and len(uses) == len(set(uses))
            and len(self.names("input")) == 1
        )

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
    def target_kind(self) -> str:
        """What the target holds, by the output's and the loss's records: "one-hot" columns (a distribution over
        classes: softmax), "real" values (a linear output), else "labels" 0/1."""
        output = record_of(self.output) if self.output else None
        if output is not None and output.probability == "distribution":
            return "one-hot"
        if output is None or output.is_identity:
            return "real"
        return "labels"

    @property
    def output(self) -> str | None:
        return self.activations[-1] if self.activations else None

    def size(self, d) -> int:
        return int(sp.sympify(d).subs(self.dim_sizes))

    def shape_of(self, name: str) -> Shape:
        return self.matrices[name].shape

    def check(self) -> None:
        if self.cost_expr is None:
            raise DeclarationError(f"network '{self.name}' declares no cost (call net.cost(...))")
        if not self.names("input") or len(self.names("target")) != 1:
            raise DeclarationError(f"network '{self.name}' needs an input and exactly one target matrix")

    def derive(self, fuse: bool = False) -> VecDerivation:
        """The vectorised derivation; ``fuse=True`` writes ``dZ = Wᵀ dZ_next ⊙ g'(Z)`` in one line (Ng's form)."""
        self.check()
        return VecDerivation(self, fuse=fuse)

    def __carry__(self):
        """What a spec's process sends back for this network (``derive.spec.transport``): with its other
        convention, if it has one, built here, since the function that builds it cannot be carried."""
        from ..convention import with_others_built

        return with_others_built(self)

    def __repr__(self) -> str:
        return f"VecNetwork({self.name!r}: sizes {self.sizes}, {self.activations}, {self.loss})"

    def _repr_latex_(self) -> str:
        """The forward equations, for Jupyter."""
        from ..printing.latex import _display, equation_row

        return _display([equation_row(e) for e in self.derive().forward])


def _classify(value, kinds) -> tuple[str, tuple[str, ...], str | None]:
    """``("affine", (W, A[, b]))``, ``("activation", (Z,), g)`` or ``("let", names)`` for a lowered value."""
    if isinstance(value, Apply) and isinstance(value.arg, sp.MatrixSymbol):
        return "activation", (value.arg.name,), value.function
    terms = list(sp.MatAdd.make_args(value)) if isinstance(value, sp.MatAdd) else [value]
    products = [t for t in terms if isinstance(t, sp.MatMul) and len(t.args) == 2]
    if len(terms) in (1, 2) and products:
        product = next((t for t in products if not isinstance(t.args[1], OneMatrix)), None)
        bias = next((t for t in products if isinstance(t.args[1], OneMatrix) and t.args[1].shape[0] == 1), None)
        if (
            product is not None
            and len(terms) == 1 + (bias is not None)
            and all(isinstance(f, sp.MatrixSymbol) for f in product.args)
            and kinds.get(product.args[0].name) == "param"
            and kinds.get(product.args[1].name) != "param"
            and (
                bias is None or (isinstance(bias.args[0], sp.MatrixSymbol) and kinds.get(bias.args[0].name) == "param")
            )
        ):
            W, A = product.args[0].name, product.args[1].name
            return "affine", (W, A) + ((bias.args[0].name,) if bias is not None else ()), None
    return "let", names_in(value), None


def _terms_of(part, node):
    """``node``'s terms other than ``part``'s, when ``node`` is a sum holding every term of the sum ``part``
    (``Z − mu`` with ``Z = W X + b``: SymPy writes it ``W X + b − mu``), else None."""
    if not isinstance(part, sp.Add) or not isinstance(node, sp.Add) or node == part:
        return None
    rest = list(node.args)
    for term in part.args:
        if term not in rest:
            return None
        rest.remove(term)
    return rest


def _factors_around(part, node):
    """(the factors before, the factors after) when ``node`` is a longer product holding the product ``part``'s
    factors in a row (``w2 @ A`` with ``A = E / S``: SymPy writes it ``w2 E S⁻¹``), else None."""
    if not isinstance(part, sp.Mul) or not isinstance(node, sp.Mul) or node == part:
        return None
    if any(f.is_commutative for f in part.args):  # a coefficient merges with the longer product's
        return None
    k, args = len(part.args), node.args
    for i in range(len(args) - k + 1):
        if args[i : i + k] == part.args:
            return args[:i], args[i + k :]
    return None


def _in_a_sum(expr, part) -> bool:
    """``part`` (a sum, or a product) is written inside a longer sum (product) of ``expr``: its terms among that
    sum's (its factors in a row among that product's)."""
    return any(
        _terms_of(part, node) is not None or _factors_around(part, node) is not None
        for node in sp.preorder_traversal(expr)
    )


def _written_with(expr, part, handle):
    """``expr`` with ``part`` written as ``handle``, also where a longer sum holds all of ``part``'s terms (a
    longer product its factors in a row)."""
    expr = expr.xreplace({part: handle})
    if isinstance(part, sp.Mul):

        def around(node):
            before, after = _factors_around(part, node)
            return sp.Mul(*before, handle, *after)

        return expr.replace(lambda node: _factors_around(part, node) is not None, around)
    if not isinstance(part, sp.Add):
        return expr
    return expr.replace(
        lambda node: _terms_of(part, node) is not None, lambda node: sp.Add(handle, *_terms_of(part, node))
    )


def _size(expr) -> int:
    """The nodes of ``expr``'s tree: an inner part is smaller than what holds it."""
    return sum(1 for _ in sp.preorder_traversal(expr))


def _name(x) -> str:
    if isinstance(x, str):
        return x
    name = getattr(x, "name", None)
    if name is None:
        raise ChainruleError(f"expected a declared quantity, got {x!r}", caller_place())
    return name


# ---------------------------------------------------------- the derivation
@dataclass
class VecDerivation:
    """Forward and backward equations of a ``VecNetwork``, with the steps that produced them."""

    network: VecNetwork
    fuse: bool = False
    forward: list[Equation] = field(default_factory=list)
    backward: list[Equation] = field(default_factory=list)
    steps: list = field(default_factory=list)

    example_scale: sp.Expr = M  # m: dQ is the per-example m ∂J/∂Q (J a mean); 1: dQ is ∂J/∂Q (J a sum)

    def __post_init__(self):
        deriver = (_BPTTDeriver if self.network.recurrence is not None else _Deriver)(self)
        deriver.run()
        self.example_scale = deriver.example_scale
        self.steps = Steps(self.steps)

    def __repr__(self) -> str:
        return f"<VecDerivation of {self.network.name!r}: {len(self.forward)} forward, {len(self.backward)} backward equations>"

    def _repr_latex_(self) -> str:
        """The forward and backward equations with their numbers and shapes, for Jupyter."""
        from ..printing.latex import vecderivation_latex

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
        out = {name: matrix.shape for name, matrix in self.network.matrices.items()}
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
        if net.recurrence is not None:
            T = net.recurrence.T
            head = f"one step t of a recurrence over t = 1 … {T} ({T} = {net.dim_sizes[T]})"
        elif any(a.kind == "affine" for a in net.assignments):
            head = f"sizes {'-'.join(map(str, net.sizes))}"
        else:  # no layers to count (word2vec, attention): the declared sizes
            head = ", ".join(f"{s} = {v}" for s, v in net.dim_sizes.items())
        lines = [f"# {net.name}: {head}, {', '.join(net.activations)}, {net.loss}"]
        for title, eqs in (("forward", self.forward), ("backward", self.backward)):
            lines.append(f"{title}:")
            width = max(len(e.text) for e in eqs)
            for e in eqs:
                lines.append(f"  {f'({e.number})':>4} {e.text:<{width}}   {shape_text(e.shape)}")
        if not self.fuse and any(e.kind == "backprop" for e in self.backward):
            fused = VecDerivation(net, fuse=True).backward
            combined = [f"       {e.text}" for e in fused if e.kind == "activation_grad" and len(e.operands) > 2]
            if combined:
                lines.append("combined, as the lecture writes dZ:")
                lines.extend(combined)
        lines.append("steps:")
        lines.extend(f"  {s}" for s in self.steps)
        return "\n".join(lines) + "\n"


class _Deriver(Sweep):
    """The reverse sweep (``derive.ir.backprop``), then, with ``fuse``, the lecture's one-line dZ."""

    def __init__(self, d: VecDerivation):
        super().__init__(d.network, M)
        self.d = d

    def run(self) -> None:
        super().run()
        rewrite_normalisations(self.net, self, M)
        self.d.forward, self.d.backward, self.d.steps = self.forward, self.backward, self.steps
        if self.d.fuse:
            self.fuse()

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
        self.d.backward = [eq.renumbered(start + i) for i, eq in enumerate(out)]


class _BPTTDeriver(BPTT, _Deriver):
    """The sweep over one step of a recurrence (``derive.ir.recurrence``), its equations in the order a
    program runs them and written with time on every name (``h_t``, ``h_{t−1}``, ``Σ_t``)."""

    def run(self) -> None:
        Sweep.run(self)
        rec = self.net.recurrence
        backward = order(self.backward, rec)
        carried = carried_values(backward, rec)
        timed = [
            replace(e, number=i + 1, text=readable_text(e, rec, carried)) for i, e in enumerate(self.forward + backward)
        ]
        self.d.forward, self.d.backward = timed[: len(self.forward)], timed[len(self.forward) :]
        self.d.steps = self.steps
