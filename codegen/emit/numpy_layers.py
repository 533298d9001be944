"""The layer part of a generated training module, from a vectorised derivation.

Reads the ``Equation`` list of ``VecNetwork.derive()`` (kinds affine,
activation, loss, output_delta, loss_grad, activation_grad, weight_grad,
bias_grad, backprop) and writes:

* ``forward`` and ``loss``: plain NumPy, one line per forward equation; the
  loss from the logits where the output and loss match (σ + BCE, softmax + CE);
* ``gradients(params, X, Y, out=None)``: the forward and backward equations
  in the derivation's order, each as in-place NumPy on buffers of a
  ``Workspace`` (one per batch size and dtype, reused on every step), so a
  training step allocates nothing the size of a layer.  Buffers are assigned
  by liveness: a quantity takes the buffer of one that is dead by then (an
  element-wise update may overwrite an operand it reads last).  ``1/m`` is
  applied once, to the output delta: every later dZ, dA is linear in it.

Each backward line carries its equation, numbered as in the handout, and the
forward equation it reverses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.special import OneMatrix

from derive import ChainruleError
from derive.ir.modes import modes_differ, prediction_program, reads_targets, running_name
from derive.ops import record_of
from derive.ops.text_nodes import Embed
from derive.printing.matrix import matrix_text
from derive.training import SECOND_ORDER, training_of

from ..render.numpy_matrix import MatrixCodePrinter, code_of
from ..render.numpy_printer import ModulePrinter
from . import losses
from .backends import NUMPY, Backend

ELEMENTWISE = {"activation", "output_delta", "loss_grad", "activation_grad"}
GENERAL_KINDS = {"let", "adjoint", "sum"}  # printed from their expressions (codegen.render.numpy_matrix), not in place
BACKWARD_KINDS = {
    "output_delta",
    "loss_grad",
    "activation_grad",
    "weight_grad",
    "bias_grad",
    "backprop",
    "adjoint",
    "sum",
}


@dataclass
class Buffer:
    name: str
    rows: int
    holds: list[str] = field(default_factory=list)  # every quantity it holds, in order


class Allocator:
    """Buffers (rows × m) assigned by liveness over a straight-line program."""

    def __init__(self, last_use: dict[str, int]):
        self.last_use = last_use
        self.buffers: list[Buffer] = []
        self.where: dict[str, Buffer] = {}

    def _dead(self, buf: Buffer, i: int, inplace: bool) -> bool:
        # the buffer's current quantity (and its aliases) is not read after step i (nor at i unless in place)
        current = [q for q, b in self.where.items() if b is buf]
        return all(self.last_use.get(q, -1) < i or (inplace and self.last_use.get(q, -1) == i) for q in current)

    def place(
        self, quantity: str, rows: int, i: int, *, inplace: bool, prefer: tuple[str, ...] = (), avoid: tuple = ()
    ) -> Buffer:
        """A buffer for ``quantity`` computed at step ``i``; ``inplace``: the operation is element-wise;
        ``avoid``: buffers still read after this quantity is written (not to be overwritten)."""
        candidates = [
            b for b in self.buffers if b.rows == rows and self._dead(b, i, inplace) and all(b is not a for a in avoid)
        ]
        preferred = [self.where[p] for p in prefer if p in self.where and self.where[p] in candidates]
        buf = (preferred or candidates or [None])[0]
        if buf is None:
            buf = Buffer(quantity, rows)
            self.buffers.append(buf)
        for q in [q for q, b in self.where.items() if b is buf]:
            del self.where[q]
        buf.holds.append(quantity)
        self.where[quantity] = buf
        return buf

    def alias(self, quantity: str, of: str) -> None:
        """``quantity`` names the array ``of`` names; an array the general printer made holds no buffer."""
        if of not in self.where:
            return
        self.where[quantity] = self.where[of]
        self.where[of].holds.append(quantity)


def layers_context(net, source: str, backend: Backend = NUMPY) -> dict:
    """The template context of a layer network (``derive.VecNetwork``), for ``backend``'s module (NumPy's by
    default: gradients in place on a workspace; JAX's: each equation a new array, jit fuses them)."""
    from .numpy_module import Line, task_of

    where = f"network '{net.name}'"
    d = net.derive()
    inputs, targets = net.names("input"), net.names("target")
    stacked = _stacked_indices(net, inputs)
    if (len(inputs) != 1 and not stacked) or len(targets) != 1:
        raise ChainruleError(
            "the templates cannot express a layer network with other than one input X (or word indices only,"
            " stacked as the rows of X) and one target Y",
            where,
        )
    X, Y = ("X" if stacked else inputs[0]), targets[0]
    if net.recurrence is not None:
        return _recurrent_context(net, d, source, X, Y, backend)
    shapes = d.shapes()
    rows = {k: net.size(r) for k, (r, c) in shapes.items() if c == net.m and not _sequence_square(r, net.m)}
    if stacked:
        rows[X] = sum(rows[n] for n in inputs)
    # a sequence model (a T×T quantity: attention's scores): the module takes m sequences of T positions
    # (rows as positions, Xᵀ: a program whose m columns attend to each other, S = Hᵀ H, is one sequence of m)
    sequence = any(_sequence_square(r, net.m) for r, _ in shapes.values()) and any(
        _sequence_square(r, net.m) and not _sequence_square(c, net.m) for r, c in shapes.values()
    )
    fwd = [e for e in d.forward if e.kind not in ("loss", "cost")]
    loss_eq = next(e for e in d.forward if e.kind in ("loss", "cost"))
    if net.cost_operands is None:
        raise ChainruleError("the templates cannot express a cost with other than one loss term", where)
    A_L, _ = net.cost_operands
    by_target = {e.target: e for e in d.forward}
    act_L = record_of(by_target[A_L].function) if by_target[A_L].kind == "activation" else None
    Z_L = by_target[A_L].operands[0] if by_target[A_L].kind == "activation" else A_L
    lname = loss_eq.function
    for e in d.backward:
        if e.kind not in BACKWARD_KINDS:
            raise ChainruleError(f"the templates cannot express an equation of kind '{e.kind}' ({e.text})", where)

    printer = backend.matrix_printer(sizes=net.dim_sizes, positions=net.m if sequence else None)
    if sequence:
        printer.use("to_columns() from_columns()")  # the module's layout of m sequences (layers.py.jinja)
    params = [n for n, _ in net.params()]
    constants = list(net.constant_values)
    reserved = {"np", "m", "ws", "grads", "out", "params", "dtype", "name", "p", "L", "rng", "seed", "stats", "train"}
    reserved |= {"T"} if sequence else set()
    reserved |= {"X"} if stacked else set()
    for name in [e.target for e in d.equations] + [*params, *inputs, Y, *constants]:
        if name in reserved or name.upper() in ("N_INPUTS", "N_TARGETS", "PARAMS", "OPTIMIZERS", "TASK"):
            raise ChainruleError(
                f"the templates cannot express the name '{name}': it clashes with the generated code", where
            )
    adjoint_scale = {
        f"d{k}": (d.example_scale if v.shape[1] == net.m and not _sequence_square(v.shape[0], net.m) else 1)
        for k, v in net.matrices.items()
    }

    # ---- forward() and loss(): plain NumPy; at prediction, masks by their expectation and statistics by
    # their running averages (derive.ir.modes)
    statistics = net.statistics
    prediction = dict(prediction_program(net))
    training_lines, prediction_lines = [], []
    for e in fwd:
        code = _plain(e, printer) if e.kind != "let" else printer.code(e.expr)
        training_lines.append(Line(f"{e.target} = {code}", [f"({e.number}) {e.text}"]))
        if e.target in statistics:
            line = Line(
                f'{e.target} = params["{running_name(e.target)}"]',
                [f"({e.number}) {e.text}: its running average, kept by train"],
            )
        elif prediction[e.target] is not e.expr and prediction[e.target] != e.expr:
            value = prediction[e.target]
            code = value.name if isinstance(value, sp.MatrixSymbol) else printer.code(value)
            line = Line(f"{e.target} = {code}", [f"({e.number}) {e.text}, at prediction: {matrix_text(value)}"])
        else:
            line = training_lines[-1]
        prediction_lines.append(line)
    forward_lines = [line for e, line in zip(fwd, prediction_lines, strict=True) if not reads_targets(net, e.target)]
    masks = [
        (D, net.size(net.matrices[D].shape[0]), printer.code(keep)) for D, keep in net.masks.items()
    ]  # drawn in declaration order, the same in loss(train=True) and gradients()
    loss_code, logits = losses.loss_code(printer, act_L, record_of(lname), Z_L, A_L, net.cost_operands[1])
    loss_comment = f"({loss_eq.number}) {loss_eq.text}" + (
        f", computed from the logits {Z_L} (log-sum-exp: stable)" if logits else ""
    )
    penalties = [  # a sum of entries written 1ᵀ Q 1 prints as a 1×1 array: np.sum makes it the number float() takes
        printer.use(f"np.sum({printer.code(t.expr)})") if t.expr.has(OneMatrix) else printer.code(t.expr)
        for t in loss_eq.terms
        if t.kind == "penalty"
    ]
    data = next((t.expr for t in loss_eq.terms if t.kind == "loss"), loss_eq.expr)
    coefficient = data.as_coeff_matrices()[0] if isinstance(data, sp.MatMul) else sp.S.One
    data_sum = "np.sum(L) / m" if coefficient == 1 / net.m else f"{printer.code(coefficient)} * np.sum(L)"
    summed = coefficient == 1
    data_sum = printer.use("np.sum(L)" if summed else data_sum)

    # ---- gradients(): in place, on workspace buffers
    program = fwd + _live(d.backward, {f"d{p}" for p in params})
    last_use: dict[str, int] = {}
    for i, e in enumerate(program):
        for q in e.operands:
            last_use[q] = i
    alloc = Allocator(last_use)
    owned = Owned(last_use)
    sums: dict = {}  # Σ_columns computed so far, by their module form (see _general)
    grad_lines: list[Line] = []
    forward_of = {e.target: e for e in d.forward}
    first_backward = True
    for i, e in enumerate(program):
        if not backend.inplace and e.kind in ("output_delta", "loss_grad") and _has_recipe(e):
            code = [f"{e.target} = ({e.operands[0]} - {e.operands[1]})" + (" / m" if d.example_scale != 1 else "")]
        elif (
            not backend.inplace
            or e.kind in GENERAL_KINDS
            or not _has_recipe(e)
            or (e.kind in ("activation", "activation_grad") and e.target not in rows)  # rows are positions (T×n)
        ):
            code = _general(e, printer, adjoint_scale, params, sums, inplace=backend.inplace, owned=owned, i=i)
        else:
            code = _inplace(e, i, alloc, rows, printer, d, by_target, X, Y)
        owned.viewed(code)
        comments = [f"({e.number}) {e.text}"]
        if e in d.backward:
            sources = [forward_of.get(t.via, loss_eq) for t in e.terms] or [_reversed_forward(e, forward_of, loss_eq)]
            for source_eq in reversed(list(dict.fromkeys(s for s in sources if s is not None))):  # each once
                comments.insert(0, f"forward: ({source_eq.number}) {source_eq.text}")
            if first_backward and d.example_scale != 1:
                buffer = " buffer" if backend.inplace else ""
                comments.insert(
                    0, f"backward: 1/m is applied once, here; every dZ, dA{buffer} below holds (1/m)·dZ, (1/m)·dA"
                )
                first_backward = False
        grad_lines.append(Line("\n".join(code), comments))

    # hvp and hessian (with newton_step)
    # (not yet for m sequences of T positions: its R-operator would take them sequence by sequence too)
    hvp = hvp_lines(d, printer, adjoint_scale, training_lines) if not sequence else None
    hessian = hessian_lines(d, printer, training_lines) if hvp is not None else None
    if training_of(net).optimizer in SECOND_ORDER and hessian is None:
        raise ChainruleError(
            f"with_training(optimizer={training_of(net).optimizer!r}) needs the Hessian as a matrix: every"
            " parameter a row or a number (1×k)",
            where,
        )

    workspace = [(b.name, b.rows, ", then ".join(b.holds)) for b in alloc.buffers]
    param_list = _param_list(net, d)

    task, task_why = task_of(record_of(lname), act_L)
    running = [
        (running_name(q), f"({net.size(net.matrices[q].shape[0])}, 1)", _running_start(net, q)) for q in statistics
    ]
    layers_code = _layers_source(
        backend.layers_template,
        net=net,
        params=params,
        X=X,
        Y=Y,
        forward_lines=forward_lines,
        training_lines=training_lines,
        prediction_lines=prediction_lines,
        modes=modes_differ(net),
        masks=masks,
        statistics=statistics,
        A_L=A_L,
        loss_code=loss_code,
        loss_comment=loss_comment,
        grad_lines=grad_lines,
        workspace=workspace,
        penalties=penalties,
        data_sum=data_sum,
        cost_text=loss_eq.text,
        constants=[(n, n.upper(), repr(v)) for n, v in net.constant_values.items()],
        running=running,
        hvp=hvp,
        hessian=hessian,
        indices=X in net.index_inputs or bool(stacked),
        sequence=sequence,
        grads=[(p, f"d{p}" if f"d{p}" in {e.target for e in d.backward} else None) for p in params],
        summed=summed,
        split=stacked,
    )
    from .numpy_module import module_context

    return module_context(
        net,
        source,
        printer,
        param_list,
        task,
        task_why,
        layers=layers_code,
        **_rows(net, X, Y, rows[X], rows[Y]),
        running=running,
        statistics=statistics,
        masks=masks,
        modes=modes_differ(net),
        constants=[(n, n.upper(), repr(v)) for n, v in net.constant_values.items()],
        n_words=net.size(net.index_inputs[inputs[0]]) if inputs[0] in net.index_inputs else None,
        summed=summed,
        sequence=sequence,
        hvp=hvp is not None,
        hessian=hessian is not None,
        backend=backend,
        forward_constants=forward_constants(
            [(n, n.upper(), repr(v)) for n, v in net.constant_values.items()], forward_lines
        ),
        **(_sequence_texts(task, rows[Y]) if sequence else {}),
    )


def _stacked_indices(net, inputs) -> str:
    """For several word-index inputs of one vocabulary (word2vec's center word c and outside words O), the line
    that reads them from the rows of the module's one X (``c, O = X[0:1], X[1:7]``); else ''."""
    if len(inputs) < 2 or not all(n in net.index_inputs for n in inputs):
        return ""
    if len({net.index_inputs[n] for n in inputs}) != 1 or net.recurrence is not None:
        return ""
    parts, start = [], 0
    for n in inputs:
        rows = net.size(net.matrices[n].shape[0])
        parts.append(f"X[{start}:{start + rows}]")
        start += rows
    return f"{', '.join(inputs)} = {', '.join(parts)}  # the word indices {', '.join(inputs)}: X's rows, in order"


def _recurrent_context(net, d, source, X, Y, backend: Backend) -> dict:
    """The module context of a recurrent network (``codegen.emit.numpy_recurrent``): X is T×m word indices."""
    from .numpy_module import _environment, module_context, task_of
    from .numpy_recurrent import recurrent_source

    printer = backend.matrix_printer(sizes=net.dim_sizes)
    code, ctx = recurrent_source(net, d, printer, "X", Y, _environment(), backend)
    act = next(e for e in d.forward if e.target == net.cost_operands[0])
    task, task_why = task_of(record_of(net.loss), record_of(act.function) if act.kind == "activation" else None)
    every_step = ctx["every_step"]  # a loss at every step: Y is T×m next-word indices, like X
    n_out = ctx["T"] if every_step else net.size(net.matrices[Y].shape[0])
    n_in = ctx["T"] if ctx["indices"] else ctx["input_rows"]  # word indices: T×m; numbers: T×d×m
    return module_context(
        net,
        source,
        printer,
        _param_list(net, d),
        task,
        task_why,
        layers=code,
        **_rows(net, "X", Y, n_in, n_out),
        recurrent=True,
        sequence_targets=every_step,
        **({"labels": None, "predict_shape": "the next word after each word, T×m"} if every_step else {}),
        n_words=net.size(net.index_inputs[X]) if ctx["indices"] else None,
        steps=None if ctx["indices"] else ctx["T"],
        backend=backend,
    )


SEQUENCE_DEMO_T = 8  # positions of each sequence of a sequence model's teacher-labelled demo data


def _sequence_texts(task: str, n_targets: int) -> dict:
    """What a sequence model's Y may also be and what its predict returns (time first, as X)."""
    if task == "multiclass":
        labels = (
            "Y may also be class labels, integers 0…K−1 of shape T×m (one per position), wherever one-hot Y is taken."
        )
        return {"labels": labels, "predict_shape": "the class at each position of each sequence: integers, T×m"}
    if n_targets == 1:
        what = "label, 0 or 1" if task == "binary" else "value ŷ"
        return {
            "labels": "Y may also have shape T×m, wherever Y is taken.",
            "predict_shape": f"the {what} at each position: T×m",
        }
    what = "labels 0/1" if task == "binary" else "values ŷ"
    return {"labels": "", "predict_shape": f"the predicted {what}, shaped like Y (T×{n_targets}×m)"}


def _rows(net, X: str, Y: str, n_in: int, n_out: int) -> dict:
    """The module's X and Y rows as its docstring and tuples name them, and the demo's settings."""
    from .numpy_module import demo_settings

    settings = demo_settings(net)
    return {
        "inputs": [f"{X}[{i}]" for i in range(n_in)] if n_in <= 8 else [f"{X}[0]", "…", f"{X}[{n_in - 1}]"],
        "targets": [f"{Y}[{i}]" for i in range(n_out)] if n_out <= 8 else [f"{Y}[0]", "…", f"{Y}[{n_out - 1}]"],
        "n_inputs": n_in,
        "n_targets": n_out,
        "inputs_tuple": f"{n_in}  # rows of X",
        "targets_tuple": f"{n_out}  # rows of Y",
        "demo": {
            **settings,
            "log_every": max(settings["epochs"] // 10, 1),
            "teacher_scale": 2,
            "examples": False,
            "why": "",
            "positions": SEQUENCE_DEMO_T,
        },
    }


def _param_list(net, d) -> list:
    """Each parameter's shape and initialisation, with the reason (PARAMS in the module)."""
    from .numpy_module import Param

    param_list = []
    affine_of = {}
    for e in d.forward:
        if e.kind == "affine":
            for op in e.operands:
                affine_of[op] = e
    act_of = {e.operands[0]: e.function for e in d.forward if e.kind == "activation"}
    for name, (r, c) in net.params():
        nr, nc = net.size(r), net.size(c)
        e = affine_of.get(name)
        if e is None:
            user = next(f for f in d.forward if name in f.operands)
            if name in net.filter_banks:  # a conv layer's filters: as the activation reading its output wants
                fed = act_of.get(user.target)
                scheme, why = record_of(fed).initialisation if fed else ("small", "N(0, 0.01²)")
                param_list.append(
                    Param(name, f"({nr}, {nc})", f"{nr}×{nc}", scheme, nc, f"filters of {user.target}, {why}")
                )
                continue
            if any(isinstance(n, Embed) and n.args[0].name == name for n in sp.preorder_traversal(user.expr)):
                why = f"word vectors of {user.target}: N(0, 0.1²)"
                param_list.append(Param(name, f"({nr}, {nc})", f"{nr}×{nc}", "embedding", nc, why))
                continue
            if 1 in (nr, nc) and _scales(net, name):  # a column, or a row when rows are positions
                why = f"scale in {user.target}: starts at 1 (batch/layer norm's γ)"
                param_list.append(Param(name, f"({nr}, {nc})", f"{nr}×{nc}", "ones", nc, why))
            elif 1 in (nr, nc) and not _multiplies(user.expr, name):  # a bias; a row v in v A + c is a weight
                param_list.append(Param(name, f"({nr}, {nc})", f"{nr}×{nc}", "zeros", nc, f"bias in {user.target}"))
            else:
                why = f"weight in {user.target}: N(0, 0.01²)"
                param_list.append(Param(name, f"({nr}, {nc})", f"{nr}×{nc}", "small", nc, why))
            continue
        if e.operands[0] == name:
            fed = act_of.get(e.target)
            scheme, why = record_of(fed).initialisation if fed else ("small", "identity output: N(0, 0.01²)")
            param_list.append(Param(name, f"({nr}, {nc})", f"{nr}×{nc}", scheme, nc, f"weight of {e.target}, {why}"))
        else:
            param_list.append(Param(name, f"({nr}, {nc})", f"{nr}×{nc}", "zeros", nc, f"bias of {e.target}"))
    return param_list


def _multiplies(expr, name: str) -> bool:
    """``name`` multiplies another quantity in ``expr`` (a weight, whatever its shape), not only a row of ones
    (a bias broadcast over the columns)."""
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.MatMul) and any(getattr(f, "name", None) == name for f in node.args):
            others = [f for f in node.args if f.is_Matrix and getattr(f, "name", None) != name]
            if any(f.atoms(sp.MatrixSymbol) for f in others):
                return True
    return False


@dataclass
class Owned:
    """The names whose array the general printer's own line made (a product, a sum, an element-wise result)
    and no other name views: a line that reads one for the last time may write over it (``dG1 = dF1`` then
    ``dG1 *= (G1 >= 0)``), as the in-place path reuses a dead buffer."""

    last_use: dict[str, int]
    names: set[str] = field(default_factory=set)

    def dying(self, name: str, i: int) -> bool:
        return name in self.names and self.last_use.get(name, -1) == i

    def made(self, name: str, expr) -> None:
        """``name = expr`` was written: its array is new unless ``expr`` prints as another name or a view of one."""
        scalar, factors = expr.as_coeff_matrices() if isinstance(expr, sp.MatMul) else (1, [])
        if isinstance(expr, (sp.MatAdd, sp.HadamardProduct)) or len(factors) >= 2 or (factors and scalar != 1):
            self.names.add(name)

    def viewed(self, lines: list[str]) -> None:
        """A line ``A = Z`` or ``A = Z.T`` makes a second name for Z's array: Z is no longer written over."""
        for line in lines:
            if found := re.fullmatch(r"\w+ = (\w+)(\.T)?", line):
                self.names.discard(found.group(1))


def _over_dying(t: str, expr, printer: MatrixCodePrinter, owned: Owned, i: int) -> list[str] | None:
    """``t = Q ⊙ R`` (or ``Q / R``) as ``t = Q`` then ``t *= R`` when Q's array is read here for the last time: no
    new array.  Two factors only, so that R as printed is the whole other factor."""
    if not isinstance(expr, sp.HadamardProduct) or len(expr.args) != 2:
        return None
    dying = next(
        (f for f in expr.args if isinstance(f, sp.MatrixSymbol) and f.shape == expr.shape and owned.dying(f.name, i)),
        None,
    )
    if dying is None:
        return None
    code, name = printer.code(expr), dying.name
    for op in ("*", "/"):
        if code.startswith(f"{name} {op} "):
            return [f"{t} = {name}", f"{t} {op}= {code[len(name) + 3 :]}"]
    if code.endswith(f" * {name}"):
        return [f"{t} = {name}", f"{t} *= {code[: -len(name) - 3]}"]
    return None


def _general(
    e, printer: MatrixCodePrinter, adjoint_scale, params, sums: dict, inplace: bool = True, owned=None, i: int = -1
) -> list[str]:
    """Any other equation of the program, as a NumPy expression (a new array; a parameter's into grads, unless
    not ``inplace``: a functional module's parameter gradient is a new array too).

    ``sums`` maps the module's form of each sum over columns computed so far (a bias's or a scale's gradient,
    Σ_columns dZ̃) to its name: a later equation that needs the same sum reads it (batch norm's dZ reads
    dβ and dγ, as cs231n's batchnorm_backward_alt does) instead of summing again."""
    t = e.target
    scale = adjoint_scale.get(t, 1) if t.startswith("d") else 1
    gradient = t.startswith("d") and t[1:] in params
    if e.kind == "sum":  # a quantity's adjoint summed over the paths from it, each term as its path gives it
        terms = [reuse(code_of(term.expr, scale, adjoint_scale), sums) for term in e.terms]
        if owned is not None and not gradient:
            owned.names.add(t)  # a sum: a new array
        if inplace and not gradient and printer.fresh(terms[0]):  # the first path's product, then += the others
            return [f"{t} = {printer.code(terms[0])}", *(f"{t} += {printer.code(term)}" for term in terms[1:])]
        value = " + ".join(printer.code(term) for term in terms)
    else:
        expr = e.expr if e.kind == "let" else code_of(e.expr, scale, adjoint_scale)
        written = reuse(expr, sums) if e.kind != "let" else expr
        if gradient and _column_sum(expr):
            sums[expr] = sp.MatrixSymbol(t, *expr.shape)
        if inplace and not gradient and owned is not None:
            owned.made(t, written)
            if lines := _over_dying(t, written, printer, owned, i) or printer.accumulate(t, written):
                return lines  # no new array: written over a dead one, or a product then += each other term
        value = printer.code(written)
    if inplace and gradient:
        return [f'{t} = grads["{t[1:]}"]', f"{t}[...] = {value}"]
    return [f"{t} = {value}"]


def _live(backward, wanted: set[str]) -> list:
    """The backward equations a parameter's gradient reads, directly or through others (an adjoint sent only
    towards the input, as dXr of Xr = Xᵀ when X is data, is computed by no module)."""
    live = []
    for e in reversed(backward):
        if e.target in wanted:
            live.append(e)
            wanted |= set(e.operands)
    return live[::-1]


def hvp_lines(d, printer: MatrixCodePrinter, adjoint_scale: dict, training_lines) -> dict | None:
    """The body of ``hvp(params, X, Y, V)``: the forward and backward equations it needs, then the R-operator's
    (``derive.ir.rop``), each printed from its expression; None where the R-operator does not apply (an op
    without a Jacobian-vector rule).  A module's ``R{dQ}`` holds ``(1/m) R{dQ}`` wherever its ``dQ`` does."""
    from derive.ir.rop import r_operator

    from .numpy_module import Line, live_lines

    try:
        rop = r_operator(d)
    except ChainruleError:
        return None
    scales = dict(adjoint_scale)
    scales.update({f"R{k}": v for k, v in adjoint_scale.items()})

    def line(e):
        scale = scales.get(e.target, 1)
        if scale != 1 and not any(scales.get(s.name, 1) != 1 for s in e.expr.atoms(sp.MatrixSymbol)):
            code = f"{printer._wrap(e.expr, 1)} / m"  # the 1/m of J, applied here as gradients() applies it
        else:
            code = printer.code(code_of(e.expr, scale, scales))
        return Line(f"{e.target} = {code}", [f"({e.number}) {e.text}"])

    tangents = [line(e) for e in rop.equations]
    returned = {p: name for p, name in rop.hvp.items()}
    program = list(training_lines) + [line(e) for e in d.backward]
    return {
        "lines": live_lines(program + tangents, [name for name in returned.values() if name]),
        "unpack": ", ".join(v.name for v in rop.directions.values())
        + " = "
        + ", ".join(f'V["{p}"]' for p in rop.directions),
        "returned": returned,
    }


def hessian_lines(d, printer: MatrixCodePrinter, training_lines) -> dict | None:
    """The body of ``hessian(params, X, Y)``: the forward lines it needs, then each block of H as the engine
    reads it off the R-operator (``derive.ir.hessian``), ``Q diag(s)`` computed as ``Q * s``; None where a
    parameter is not a row or a number."""
    from derive.ir.hessian import hessian, without_diag

    from .numpy_module import Line, live_lines

    try:
        h = hessian(d)
    except ChainruleError:
        return None
    blocks = []
    for b in h.blocks.values():
        expr = without_diag(b.expr)
        zeros = "np.zeros(({}, {}))".format(*(d.network.size(x) for x in b.expr.shape))
        blocks.append(Line(f"{b.name} = {printer.use(zeros) if expr.is_ZeroMatrix else printer.code(expr)}", [b.text]))
    rows = [[h.blocks[(r, c)].name for c in h.params] for r in h.params]
    size = sum(d.network.size(d.network.matrices[p].shape[1]) for p in h.params)
    return {
        "lines": live_lines(list(training_lines), [line.code.split(" = ", 1)[1] for line in blocks]) + blocks,
        "block": printer.use("np.block([" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "])"),
        "size": size,
        "texts": [b.text for b in h.blocks.values()],
    }


def _column_sum(expr) -> bool:
    """``Q 1``: a sum over the columns (scalar 1: the module's form of a bias's or a scale's gradient)."""
    return (
        isinstance(expr, sp.MatMul)
        and isinstance(expr.args[-1], OneMatrix)
        and expr.args[-1].shape[1] == 1
        and expr.as_coeff_matrices()[0] == 1
    )


def reuse(expr, sums: dict):
    """``expr`` with each ``Q 1 1ᵀ`` whose ``Q 1`` was computed already written with that name (``g 1ᵀ``)."""
    if not sums or not isinstance(expr, sp.MatrixExpr) or expr.is_Atom:
        return expr
    if isinstance(expr, sp.MatMul):
        scalar, factors = expr.as_coeff_matrices()
        last = factors[-1]
        if len(factors) >= 2 and isinstance(last, OneMatrix) and last.shape[1] != 1:  # Q 1 1ᵀ, SymPy's Q 1ₘₓₘ
            inner = sp.MatMul(*factors[:-1], OneMatrix(last.shape[0], 1))
            if inner in sums:
                return sp.MatMul(scalar, sums[inner], OneMatrix(1, last.shape[1]))
    return expr.func(*[reuse(a, sums) for a in expr.args])


def _sequence_square(rows, m) -> bool:
    """Rows that count the m positions too: attention's T×T scores (not a quantity with one column per example)."""
    return m in sp.sympify(rows).free_symbols


def _plain(e, printer: ModulePrinter) -> str:
    if e.kind == "affine":
        W, A = e.operands[:2]
        return f"{W} @ {A}" + (f" + {e.operands[2]}" if len(e.operands) > 2 else "")
    return printer.code(e.expr)


def _has_recipe(e) -> bool:
    """Whether equation ``e`` has an in-place form: the MLP's kinds, an activation (or its derivative) whose
    record has a recipe or is the identity; the loss's own gradient where it is A − Y."""
    if e.kind in ("activation", "activation_grad"):
        rec = record_of(e.function)
        if rec.is_identity:
            return True
        recipe = rec.inplace
        return recipe is not None and bool(recipe.forward if e.kind == "activation" else recipe.grad_scratch)
    if e.kind == "loss_grad":
        A, Y = (sp.MatrixSymbol(n, *e.shape) for n in e.operands)
        return e.expr == A - Y
    return True


def _reversed_forward(e, forward_of, loss_eq):
    if e.kind in ("output_delta", "loss_grad"):
        return loss_eq
    adjoint = next((op for op in e.operands if op.startswith("d")), None)
    return forward_of.get(adjoint[1:]) if adjoint else None


def _inplace(e, i, alloc: Allocator, rows, printer, d, by_target, X, Y) -> list[str]:
    """The in-place NumPy for equation ``e`` (step ``i``): lines, the first assigning ``e.target``
    (a parameter's gradient is only written into ``grads``)."""
    t, ops = e.target, e.operands

    def buf(inplace: bool, prefer=()) -> str:
        return f"ws.{alloc.place(t, rows[t], i, inplace=inplace, prefer=prefer).name}"

    if e.kind == "affine":
        W, A = ops[:2]
        lines = [f"{t} = np.matmul({W}, {A}, out={buf(False)})"]
        if len(ops) > 2:
            lines.append(f"{t} += {ops[2]}")
        return lines
    if e.kind == "activation":
        (Z,) = ops
        rec = record_of(e.function)
        if rec.is_identity:
            alloc.alias(t, Z)
            return [f"{t} = {Z}"]
        out = buf(True, prefer=(Z,))
        return [line.format(a=t, z=Z, out=out) for line in rec.inplace.forward]
    if e.kind in ("output_delta", "loss_grad"):
        A, Yn = ops
        out = buf(True, prefer=(A,))
        mean = d.example_scale != 1  # J = (1/m) Σ L: the module's dZ holds (1/m)·dZ from here on
        return [f"{t} = np.subtract({A}, {Yn}, out={out})"] + ([f"{t} *= 1 / m"] if mean else [])
    if e.kind == "weight_grad":
        dZ, A = ops
        W = by_target[dZ[1:]].operands[0]
        return [f'np.matmul({dZ}, {A}.T, out=grads["{W}"])']
    if e.kind == "bias_grad":
        (dZ,) = ops
        b = by_target[dZ[1:]].operands[2]
        # np.add.reduce is np.sum without its Python wrapper (microseconds per call at small sizes)
        return [f'np.add.reduce({dZ}, axis=1, keepdims=True, out=grads["{b}"])']
    if e.kind == "backprop":
        W, dZ = ops
        return [f"{t} = np.matmul({W}.T, {dZ}, out={buf(False)})"]
    if e.kind == "activation_grad":
        rec = record_of(e.function)
        if rec.is_identity:
            alloc.alias(t, ops[0])
            return [f"{t} = {ops[0]}"]
        dA, Q = ops  # Q is A (σ, tanh: g' from the output) or Z (ReLU: 1[Z ≥ 0])
        recipe = rec.inplace
        if alloc.last_use.get(Q, -1) <= i and recipe.grad_clobber:
            # Q is read last here: g'(Q) overwrites Q's buffer, then dZ = dA ⊙ g'(Q) takes dA's
            if recipe.clobber_writes_first:
                # dZ must not take Q's buffer: Q is read again after dZ is first written (when dA's own
                # buffer is still needed, e.g. dA = dH of a residual sum H = A + A_prev)
                out = f"ws.{alloc.place(t, rows[t], i, inplace=True, prefer=(dA,), avoid=(alloc.where.get(Q),)).name}"
                return [line.format(dz=t, da=dA, q=Q, out=out) for line in recipe.grad_clobber]
            pre = [line.format(q=Q) for line in recipe.grad_clobber]
            return [*pre, f"{t} = np.multiply({dA}, {Q}, out={_place_dA(alloc, t, dA, i, rows)})"]
        # Q is still needed: g'(Q) goes to a scratch buffer
        scratch = f"g_{Q}"
        pre = [f"{scratch} = ws.{alloc.place(scratch, rows[Q], i, inplace=False).name}"]
        pre += [line.format(q=Q, s=scratch) for line in recipe.grad_scratch]
        return [*pre, f"{t} = np.multiply({dA}, {scratch}, out={_place_dA(alloc, t, dA, i, rows)})"]
    raise ChainruleError(f"the templates cannot express an equation of kind '{e.kind}'")


def _place_dA(alloc: Allocator, t: str, dA: str, i: int, rows) -> str:
    return f"ws.{alloc.place(t, rows[t], i, inplace=True, prefer=(dA,)).name}"


def _reads_m(lines, codes) -> bool:
    """Whether code reads the batch size m (a module's functional form sets it only then)."""
    return any(re.search(r"\bm\b", code) for code in [*codes, *(line.code for line in lines)])


def forward_constants(constants, forward_lines) -> list:
    """The constants forward's lines read (its keywords)."""
    return [c for c in constants if any(re.search(rf"\b{c[0]}\b", x.code) for x in forward_lines)]


def _scales(net, name: str) -> bool:
    """Whether parameter ``name`` multiplies entry by entry (γ in γ ⊙ Ẑ + β) rather than being added."""
    for a in net.assignments:
        for node in sp.preorder_traversal(a.value):
            if isinstance(node, sp.HadamardProduct) and any(
                f == net.matrices[name]
                or net.matrices[name] in (getattr(f, "args", ())[:1] + getattr(f, "args", ())[-1:])
                for f in node.args  # γ, a broadcast column γ 1ᵀ or a broadcast row 1 γ
            ):
                return True
    return False


def _running_start(net, q) -> str:
    """A running average starts where a standardised layer would be: mean 0, variance (a mean of squares) 1."""
    a = net.assignment(q)
    _, factors = a.value.as_coeff_matrices()
    squares = isinstance(factors[0], sp.HadamardPower) and factors[0].exp == 2
    squares = squares or (isinstance(factors[0], sp.HadamardProduct) and len(set(factors[0].args)) == 1)
    return "ones" if squares else "zeros"


def _layers_source(
    template: str,
    *,
    net,
    params,
    X,
    Y,
    forward_lines,
    training_lines,
    prediction_lines,
    modes,
    masks,
    statistics,
    A_L,
    loss_code,
    loss_comment,
    grad_lines,
    workspace,
    penalties,
    data_sum,
    cost_text,
    constants,
    running,
    indices,
    sequence,
    grads,
    summed,
    hvp,
    hessian,
    split="",
) -> str:
    """forward, loss, Workspace and gradients as Python source (formatted later by ruff)."""
    from .numpy_module import Line, _environment, live_lines, unpack_params

    hvp_reads = [*hvp["lines"], *(Line(keep) for *_, keep in masks)] if hvp else []  # what hvp's body reads
    return (
        _environment()
        .get_template(template)
        .render(
            params_unpack=unpack_params(params),
            X=X,
            Y=Y,
            forward=forward_lines,
            loss_training=live_lines(training_lines, [loss_code]),
            loss_prediction=live_lines(prediction_lines, [loss_code]),
            modes=modes,
            masks=masks,
            statistics=statistics,
            running=running,
            A_L=A_L,
            loss_code=loss_code,
            loss_comment=loss_comment,
            gradients=grad_lines,
            workspace=workspace,
            params=params,
            penalties=penalties,
            data_sum=data_sum,
            cost_text=cost_text,
            constants=constants,
            forward_constants=forward_constants(constants, forward_lines),
            indices=indices,
            sequence=sequence,
            grads=grads,
            summed=summed,
            hvp=hvp,
            hessian=hessian,
            split=split,
            forward_needs_m=any(re.search(r"\bm\b", line.code) for line in forward_lines),
            loss_needs_m=bool(masks)
            or _reads_m([*training_lines, *prediction_lines], [loss_code, data_sum, *penalties]),
            gradients_needs_m=bool(masks) or _reads_m(grad_lines, []),
            hessian_needs_m=bool(hessian) and _reads_m(hessian["lines"], []),
            hvp_needs_m=bool(hvp) and (bool(masks) or _reads_m(hvp_reads, [])),
            hvp_constants=forward_constants(constants, hvp_reads),
            hvp_reads_y=any(re.search(rf"\b{Y}\b", line.code) for line in hvp_reads),
            prediction_needs_m=any(re.search(r"\bm\b", line.code) for line in prediction_lines),
        )
    )
