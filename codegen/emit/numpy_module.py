"""Generate a NumPy training module (and its pytest file) from a declared network.

Two kinds of declaration generate:

* a scalar network (``derive.Network``: x1, x2, … programs): every input is a
  row of X and every node is computed for all m examples at once; each
  parameter's gradient is the derivation's simplified ∂L/∂θ, averaged over the
  examples (``scalar_context``);
* a layer network (``derive.mlp`` …, the vectorised derivation): the forward
  and backward equations become in-place NumPy on buffers reused across steps
  (``codegen.emit.numpy_layers``).

Both render ``templates/train_module.py.jinja`` and ``test_module.py.jinja``;
the text is formatted by ruff (deterministic) and stamped with a hash of its
content, so a file edited by hand is recognised (``check_overwrite``).
"""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
from dataclasses import dataclass, field

import jinja2
import sympy as sp

from derive import ChainruleError
from derive.ops import find, record_of
from derive.printing.text import display_name, text
from derive.training import training_of
from derive.unit.network import Network

from ..render.numbering import summary_label
from ..render.numpy_printer import ModulePrinter
from .backends import NUMPY, Backend
from .files import check_overwrite, edited_by_hand, stamp  # noqa: F401 (the stamp, shared with the handouts)

LINE_LENGTH = 120
SEQUENCE_CHECK_M = 2  # a sequence model's gradient check: 2 sequences of T positions (so that none sees another)
# names the generated code itself uses: a declaration may not reuse them
RESERVED = {"np", "X", "Y", "L", "m", "params", "grads", "out", "ws", "name", "p", "g"}


@dataclass
class Line:
    code: str
    comments: list[str] = field(default_factory=list)


@dataclass
class Param:
    name: str
    shape: str  # Python literal: () or (n1, n0)
    shape_text: str  # n1×n0
    init: str  # he | xavier | small | zeros
    fan_in: int
    why: str
    grad: str = ""  # the expression returned for it by gradients()


def inert(text) -> str:
    """``text`` (a network's name or doc string, a spec file's name) made safe to print inside a generated
    module's docstring or a ``#`` comment: one line, backslashes and quotes escaped as in a string literal
    (``repr``), so that it reads as itself and can close no docstring and start no code."""
    body = repr(str(text))[1:-1]  # escapes backslashes, newlines and every unprintable character
    return body.replace('"', '\\"')


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("codegen", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["inert"] = inert
    return env


# ------------------------------------------------------------ formatting
def ruff_format(source: str, where: str = "generated module") -> str:
    """``source`` formatted by ``ruff format`` (isolated from any project config: deterministic)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ruff",
            "format",
            "--isolated",
            f"--line-length={LINE_LENGTH}",
            "--stdin-filename",
            "module.py",
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 and "No module named" in result.stderr:
        raise ChainruleError("ruff is needed to format generated code (pip install ruff)", where)
    if result.returncode != 0:
        first = (result.stderr.strip().splitlines() or ["ruff failed"])[0]
        raise ChainruleError(f"the templates produced code ruff cannot format ({first})", where)
    return result.stdout


# ------------------------------------------------------- shared context
def module_text(context: dict, where: str) -> str:
    source = _environment().get_template(context["backend"].module_template).render(**context)
    return stamp(ruff_format(source, where))


def test_text(module: str, check_m: int, check_seed: int, where: str, context: dict) -> str:
    if context["sequence"]:
        check_m = min(check_m, SEQUENCE_CHECK_M)
    source = (
        _environment()
        .get_template(context["backend"].test_template)
        .render(
            module=module,
            check_m=check_m,
            check_seed=check_seed,
            task=context["task"],
            n_targets=context["n_targets"],
            labels=context["labels"],
            masks=context["masks"],
            statistics=context["statistics"],
            keep_names=sorted({keep for _, _, keep in context["masks"]} & {n for n, _, _ in context["constants"]}),
            indices=context.get("n_words") is not None,
            recurrent=context.get("recurrent", False),
            sequence_targets=context.get("sequence_targets", False),
            steps=context.get("steps"),
            summed=context.get("summed", False),
            sequence=context["sequence"],
            keyword_constants=context["constants"] if context["layers"] else [],  # keywords of loss and gradients
            hvp=context.get("hvp", False),
            hessian=context.get("hessian", False),
            newton=context.get("demo", {}).get("optimizer") == "newton",
        )
    )
    return stamp(ruff_format(source, where))


def _tuple_literal(names) -> str:
    names = [f'"{n}"' for n in names]
    return f"({names[0]},)" if len(names) == 1 else f"({', '.join(names)})"


def _unpack(names, source: str) -> str:
    lhs = f"({names[0]},)" if len(names) == 1 else ", ".join(names)
    return f"{lhs} = {source}"


def unpack_params(names) -> str:
    """``W1, b1 = params["W1"], params["b1"]``: one local name per parameter."""
    return f"{', '.join(names)} = {', '.join(f'params[{n!r}]' for n in names)}".replace("'", '"')


def demo_settings(net) -> dict:
    """How the module's demo trains: the declaration's ``with_training`` settings (or the defaults)."""
    settings = training_of(net).settings()
    for flag in ("reconstruct", "sampled"):
        if not settings[flag]:
            del settings[flag]
    return settings


def task_of(loss, output) -> tuple[str, str]:
    """(binary | multiclass | regression, why) from the loss's record and the output activation's (or None)."""
    probability = output.probability if output is not None else ""
    if loss.task == "binary" or (loss.task == "regression" and probability == "binary"):
        name = f"a {output.name}" if output is not None else "a linear"
        return "binary", f"{loss.text} on {name} output: labels 0/1, predicted by ŷ ≥ 0.5"
    if loss.task == "multiclass" or probability == "distribution":
        return "multiclass", "one-hot targets: the class is the largest ŷ"
    return "regression", "squared error on a linear output: predict returns ŷ"


# ------------------------------------------------------- scalar networks
def scalar_context(net: Network, source: str, backend: Backend = NUMPY) -> dict:
    """The template context of a scalar (x1, x2, …) network; ChainruleError if it cannot be expressed."""
    where = f"network '{net.name}'"
    inputs, targets, params = net.names("input"), net.names("target"), net.names("param")
    if not inputs or not targets or not params:
        missing = [k for k, v in (("inputs", inputs), ("targets", targets), ("parameters", params)) if not v]
        raise ChainruleError(
            f"the templates cannot express a network without {' or '.join(missing)} (nothing to train on)", where
        )
    for name in net.kinds:
        if name == net.loss_name:
            continue
        if name in RESERVED or keyword.iskeyword(name) or name.startswith("_"):
            raise ChainruleError(
                f"the templates cannot express the name '{name}': it clashes with the generated code", where
            )
    loss_node = net.nodes[-1]
    whole = loss_node.expr  # the data term, plus any other term (a penalty R, named by the declaration)
    data_terms = [t for t in sp.Add.make_args(whole) if getattr(find(type(t)), "kind", None) == "loss"]
    if len(data_terms) != 1:
        raise ChainruleError(
            f"the templates cannot express the loss '{text(whole)}': it must have one loss term"
            " (binary_cross_entropy, cross_entropy or squared_error of outputs and targets)",
            loss_node.where or where,
        )
    (loss_expr,) = data_terms
    loss = find(type(loss_expr))
    k = len(loss_expr.args) // 2 if loss.form == "pairs" else 1
    yhats, ys = loss_expr.args[:k], loss_expr.args[k:]
    node_names = {n.name for n in net.nodes}
    if not all(isinstance(a, sp.Symbol) and a.name in node_names for a in yhats) or not all(
        isinstance(a, sp.Symbol) and net.kinds.get(a.name) == "target" for a in ys
    ):
        raise ChainruleError(
            "the templates cannot express this loss: its arguments must be output nodes, then targets",
            loss_node.where or where,
        )
    if len(set(ys)) != len(targets):
        raise ChainruleError("the templates cannot express targets the loss does not use", loss_node.where or where)

    definitions = {n.symbol: n.expr for n in net.nodes}
    constants = [(n, n.upper(), repr(v)) for n, v in net.constant_values.items()]
    printer = backend.scalar_printer(definitions, names={net.symbols[n]: N for n, N, _ in constants})
    derivation = net.derive()

    forward = _forward_lines(net, printer)
    outputs = [a.name for a in yhats]
    output_funcs = {type(definitions[a]) for a in yhats}
    output = find(next(iter(output_funcs))) if len(output_funcs) == 1 else None
    output = output if output is not None and output.kind == "activation" else None
    task, task_why = task_of(loss, output)
    loss_code = printer.doprint(whole)
    stable = "binary_cross_entropy_logits" in loss_code or "cross_entropy_logits" in loss_code
    loss_comment = f"L = {text(whole)}" + (", computed from the logits (log-sum-exp: stable)" if stable else "")

    # a probability the loss takes that is not its matched activation's (BCE of q = a1·a2): its gradient
    # divides by q(1 − q), so the gradients read it kept inside [eps, 1 − eps], as the loss does
    matched = record_of(loss.matched).cls if loss.probabilities else None
    unmatched = [a for a in outputs if matched is not None and type(definitions[net.symbols[a]]) is not matched]
    taken = set(net.kinds)
    backward, param_list = [], []
    for symbol, node, definition in derivation.deltas():  # a node used more than once: its gradient, named once
        comments = [f"δ of {node}, used {len(derivation.children[node])} times: ∂L/∂{display_name(node)} (per example)"]
        backward.append(Line(f"{symbol.name} = {printer.doprint(definition)}", comments))
    for number, name in enumerate(params, start=1):
        grad_name = f"d{name}" if f"d{name}" not in taken else f"grad_{name}"
        delta = derivation.gradient(name, deltas=True)
        uses = [n for n in net.nodes if net.symbols[name] in n.expr.free_symbols]
        comments = [f"forward: {n.name} = {text(n.expr)}" for n in uses]
        shown = text(derivation.shown_gradient(name))  # the handout's lecture order: (ŷ − y)·w1·a1·(1 − a1)·x1
        comments.append(f"handout equation ({summary_label(number)}): ∂L/∂{display_name(name)} = {shown}")
        backward.append(Line(printer.use(f"{grad_name} = np.mean({printer.doprint(delta)})"), comments))
        init, fan_in, why = _scalar_init(net, name, uses)
        param_list.append(
            Param(
                name,
                "()",
                "scalar",
                init,
                fan_in,
                why,
                grad=printer.use(f"np.asarray({grad_name}, dtype={name}.dtype)"),
            )
        )

    demo = _scalar_demo(net, inputs, targets)
    return module_context(
        net,
        source,
        printer,
        param_list,
        task,
        task_why,
        backend=backend,
        layers="",
        inputs=inputs,
        targets=targets,
        n_inputs=len(inputs),
        n_targets=len(targets),
        inputs_tuple=_tuple_literal(inputs),
        targets_tuple=_tuple_literal(targets),
        forward=forward,
        forward_live=live_lines(forward, outputs),  # what the outputs need (not a penalty node)
        loss_forward=live_lines(forward, [loss_code]),
        gradients_forward=_clipped(live_lines(forward, [line.code for line in backward]), unmatched, printer),
        outputs=outputs,
        params_unpack=_unpack(params, "(params[name] for name in PARAMS)"),
        inputs_unpack=_unpack(inputs, "X"),
        targets_unpack=_unpack(targets, "Y"),
        loss_text=text(whole),
        constants=constants,
        loss_comment=loss_comment,
        loss_code=loss_code,
        backward=backward,
        demo=demo,
    )


def task_texts(task: str, n_targets: int) -> tuple[str, str]:
    """(what Y may also be, what predict returns) for a module's docstrings."""
    if task == "multiclass":
        return "Y may also be class labels, integers 0…K−1 of shape (m,), wherever one-hot Y is taken.", (
            "the class of each example, 0…K−1: integers, shape (m,)"
        )
    if n_targets > 1:
        what = "labels 0/1" if task == "binary" else "values ŷ"
        return "", f"the predicted {what}, shaped like Y ({n_targets}×m)"
    if task == "binary":
        return "Y may also be the labels 0/1 of shape (m,), wherever Y is taken.", (
            "the label of each example, 0 or 1: integers, shape (m,)"
        )
    return "Y may also have shape (m,), wherever Y is taken.", "the value ŷ of each example: shape (m,)"


def live_lines(lines: list[Line], used_by: list[str]) -> list[Line]:
    """The lines of a straight-line program that the code ``used_by`` needs, in order."""
    needed = {name for code in used_by for name in re.findall(r"[A-Za-z_]\w*", code)}
    kept = []
    for line in reversed(lines):
        targets = [t.strip() for t in line.code.split(" = ", 1)[0].split(",")]
        if any(t in needed for t in targets):
            kept.append(line)
            needed |= set(re.findall(r"[A-Za-z_]\w*", line.code.split(" = ", 1)[1]))
    return kept[::-1]


def _clipped(lines: list[Line], names: list[str], printer) -> list[Line]:
    """``lines`` with each of ``names`` clipped into [eps, 1 − eps] right after the line that computes it."""
    out = []
    for line in lines:
        out.append(line)
        targets = [t.strip() for t in line.code.split(" = ", 1)[0].split(",")]
        for name in (n for n in names if n in targets):
            eps = f"np.finfo({name}.dtype).eps"
            clip = printer.use(f"{name} = np.clip({name}, {eps}, 1 - {eps})")
            out.append(Line(clip, [f"{name} as the loss reads it: never 0 or 1"]))
    return out


def module_context(net, source, printer, params, task, task_why, **own) -> dict:
    """The keys every training-module template context has; ``own`` adds the network kind's own."""
    labels, predict_shape = task_texts(task, own["n_targets"])
    return {
        "labels": labels,
        "predict_shape": predict_shape,
        "name": net.name,
        "doc": net.doc or net.name,
        "source": source,
        "params": params,
        "task": task,
        "task_why": task_why,
        "helpers": printer.helper_source(),
        "imports": sorted(set(printer.imports) | {"import numpy as np"}),
        "backend": NUMPY,
        # training-only behaviour (dropout masks, running averages of batch statistics) and constants: none
        # unless the network has them (codegen.emit.numpy_layers)
        "running": [],
        "masks": [],
        "statistics": [],
        "modes": False,
        "constants": [],
        "forward_constants": [],  # the constants forward takes as keywords (a layer network's)
        "n_words": None,
        "recurrent": False,
        "sequence_targets": False,
        "text": "",
        "text_doc": "",
        "steps": None,  # a recurrence over numeric inputs: T (X is T×d×m)
        "sequence": False,  # a sequence model (attention): m sequences of T positions, time first
        "hvp": False,  # hvp(params, X, Y, V): the R-operator's equations (a layer program whose ops all have one)
        "hessian": False,  # hessian(params, X, Y) and newton_step: every parameter a row or a number
        **own,
    }


def _forward_lines(net: Network, printer: ModulePrinter) -> list[Line]:
    """One line per node but the loss; consecutive softmax components in one line."""
    lines: list[Line] = []
    nodes = net.nodes[:-1]
    i = 0
    while i < len(nodes):
        node = nodes[i]
        component = getattr(node.expr, "record", None)
        if component is not None and component.form == "component":
            zs = node.expr.args[1:]
            group = [node]
            while (
                i + len(group) < len(nodes)
                and type(nodes[i + len(group)].expr) is component.cls
                and nodes[i + len(group)].expr.args[1:] == zs
            ):
                group.append(nodes[i + len(group)])
            if [int(n.expr.args[0]) for n in group] == list(range(1, len(zs) + 1)):
                lhs = ", ".join(n.name for n in group)
                stacked = printer.use(f"np.stack([{', '.join(printer.doprint(z) for z in zs)}])")
                rhs = printer.use(component.numpy_matrix.format(stacked))
                lines.append(Line(f"{lhs} = {rhs}", [f"{lhs} = {component.text}({', '.join(text(z) for z in zs)})"]))
                i += len(group)
                continue
        lines.append(Line(f"{node.name} = {printer.doprint(node.expr)}", [f"{node.name} = {text(node.expr)}"]))
        i += 1
    return lines


def _scalar_init(net: Network, name: str, uses) -> tuple[str, int, str]:
    """(scheme, fan-in, why) for a scalar parameter from the node that uses it."""
    sym = net.symbols[name]
    if len(uses) != 1:
        return "small", 1, "used by several nodes: N(0, 0.01²)"
    node = uses[0]
    terms = sp.Add.make_args(node.expr)
    if sym in terms:
        return "zeros", 1, f"bias of {node.name}"
    fan_in = sum(1 for t in terms if not (t.is_Symbol and net.kinds.get(t.name) == "param"))
    consumers = [n for n in net.nodes if node.symbol in n.expr.free_symbols]
    funcs = {type(n.expr) for n in consumers}
    fed = find(next(iter(funcs))) if len(funcs) == 1 else None
    if fed is not None and fed.kind == "activation" and fed.init is not None:
        scheme, why = fed.init
        return scheme, fan_in, f"weight into {node.name}, {why}"
    return "small", fan_in, f"weight into {node.name}: N(0, 0.01²)"


def _scalar_demo(net: Network, inputs, targets) -> dict:
    settings = demo_settings(net)
    leaves = set(inputs) | set(targets)
    examples = [v for _, v in sorted(net.examples.items()) if leaves <= set(v)]
    demo = {**settings, "log_every": max(settings["epochs"] // 10, 1), "teacher_scale": 2, "examples": False, "why": ""}
    if len(examples) >= 2:
        X = [[float(e[n]) for e in examples] for n in inputs]
        Y = [[float(e[n]) for e in examples] for n in targets]
        demo.update(examples=True, X=repr(X), Y=repr(Y), m=len(examples), why=" (declared with the network)")
    return demo
