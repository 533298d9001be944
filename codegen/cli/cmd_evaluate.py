"""``chainrule evaluate SPEC --at FILE [--digits N]``: every forward value and gradient at a point.

A student working a handout by hand checks each number against this list.
The point file gives every input, target and parameter a value, one per line::

    # two_layer_sigmoid, my own example
    x1 = 0.5
    x2 = -1
    y = 1
    W11 = 0.1      # the rest of the line after '#' is a comment
    ...

or as one JSON object (``{"x1": 0.5, "x2": -1, ...}``).  A line that is not
``name = number``, an unknown or repeated name, a missing value or a value that
is not a finite number is reported as ``chainrule: error: FILE:LINE: …`` with
exit status 2.
"""

from __future__ import annotations

import json
import math
import re

from derive import ChainruleError, VecNetwork
from derive.catalogue import load_spec
from derive.errors import shown
from derive.names import did_you_mean
from derive.printing.text import partial_text, text

from ..render.latex_printer import DIGITS

_LINE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(\S+)\s*$")


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="print every forward value and gradient at a point given in a file")
    p.add_argument("spec", metavar="SPEC", help="catalogue name, or a Python file that defines `network`")
    p.add_argument("--at", required=True, metavar="FILE", help="the point: 'name = value' lines, or a JSON object")
    p.add_argument("--digits", type=int, default=DIGITS, metavar="N", help=f"significant digits (default {DIGITS})")
    p.set_defaults(run=run)


def plain_number(value: float, digits: int = DIGITS) -> str:
    """``value`` with ``digits`` significant digits, as plain text: ``0.7004``, ``-10``, ``1.235e-05``."""
    value = float(value)
    if not math.isfinite(value):
        return str(value)
    if value == 0:
        return "0"
    if value.is_integer() and abs(value) < 1e6:
        return str(int(value))
    short = f"{value:.{digits}g}"
    if float(short) == value and "e" not in short:  # exact in fewer digits (a given 0.5): as given
        return short
    if 1e-3 <= abs(value) < 1e6:
        return f"{value:#.{digits}g}".rstrip(".")
    return f"{value:.{max(digits - 1, 0)}e}"


def _number(text_value: str, place: str) -> float:
    try:
        value = float(text_value)
    except ValueError:
        raise ChainruleError(f"'{text_value}' is not a number", place) from None
    if not math.isfinite(value):
        raise ChainruleError(f"'{text_value}' is not a finite number", place)
    return value


def read_point(path: str, net) -> dict[str, float]:
    """The point in ``path`` (see the module docstring), checked against ``net``'s leaves."""
    try:
        with open(path, encoding="utf-8") as handle:
            content = handle.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ChainruleError(f"cannot read the point file: {reason}", path) from None
    leaves = list(net.leaves)
    point: dict[str, float] = {}
    where: dict[str, str] = {}
    if content.lstrip().startswith(("{", "[")):
        for name, value in _json_pairs(content, path):
            if name in point:
                raise ChainruleError(f"'{name}' is given twice", path)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ChainruleError(f"the value of {shown(name)} is not a number but {_json_kind(value)}", path)
            try:
                number = float(value)
            except OverflowError:
                raise ChainruleError(f"the value of {shown(name)} is beyond the float range", path) from None
            point[name] = _number(repr(number), path)
            where[name] = path
    else:
        for lineno, line in enumerate(content.splitlines(), start=1):
            place = f"{path}:{lineno}"
            line = line.split("#", 1)[0]
            if not line.strip():
                continue
            m = _LINE.match(line)
            if not m:
                raise ChainruleError(f"expected 'name = value', got '{line.strip()}'", place)
            name, value = m.groups()
            if name in point:
                raise ChainruleError(f"'{name}' is given twice (first at {where[name]})", place)
            point[name] = _number(value, place)
            where[name] = place
    for name in point:
        if name not in leaves:
            kind = net.kinds.get(name)
            problem = (
                f"'{name}' is computed by the network, not given"
                if kind == "node"
                else f"unknown name '{name}'{did_you_mean(name, leaves)}"
            )
            raise ChainruleError(f"{problem} (network '{net.name}' takes: {', '.join(leaves)})", where[name])
    missing = [n for n in leaves if n not in point]
    if missing:
        raise ChainruleError(f"no value for {', '.join(missing)} (every input, target and parameter needs one)", path)
    return point


def _json_pairs(content: str, path: str) -> list[tuple[str, object]]:
    """The (name, value) pairs of a JSON point file, in order, duplicates kept (the caller refuses them)."""
    try:
        data = json.loads(content, object_pairs_hook=lambda pairs: pairs, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise ChainruleError(f"not valid JSON: {exc.msg}", f"{path}:{exc.lineno}") from None
    except RecursionError:
        raise ChainruleError("not a point: the JSON is nested too deeply", path) from None
    except ValueError as exc:  # a constant JSON does not have (NaN, Infinity), or an integer of > 4300 digits
        raise ChainruleError(f"not valid JSON: {exc}", path) from None
    if not isinstance(data, list) or not all(isinstance(p, tuple) for p in data):
        raise ChainruleError("the JSON must be one object {name: value}", path)
    return data


def _json_kind(value) -> str:
    if isinstance(value, list):
        return "an object" if value and all(isinstance(v, tuple) for v in value) or value == [] else "a list"
    return {str: "a string", bool: "true or false", type(None): "null"}.get(type(value), "not a number")


def _no_constant(name: str):
    raise ValueError(f"{name} is not a number JSON has")


def report(net, point: dict[str, float], digits: int = DIGITS) -> str:
    """The forward values and every gradient at ``point``, one per line."""
    derivation = net.derive()
    try:
        evaluation = derivation.evaluate(point)
    except (ValueError, ZeroDivisionError, OverflowError) as exc:
        raise ChainruleError(f"the network cannot be evaluated there ({exc})", "--at") from None
    num = lambda v: plain_number(v, digits)
    lines = [f"# {net.name}: forward values and gradients ({digits} significant digits)", "", "forward"]
    width = max(len(n) for n in net.kinds)
    for name in net.leaves:
        lines.append(f"  {name:<{width}} = {num(evaluation.values[name])}")
    for node in net.nodes:
        lines.append(f"  {node.name:<{width}} = {text(node.expr)} = {num(evaluation.values[node.name])}")
    lines += ["", f"gradients of {net.loss_name}"]
    loss = net.loss_name
    names = [n.name for n in reversed(net.nodes) if n.name != loss] + net.names("param")
    labels = [partial_text(loss, n) for n in names]
    w = max(len(label) for label in labels)
    for name, label in zip(names, labels):
        lines.append(f"  {label:<{w}} = {num(evaluation.gradients[name])}")
    return "\n".join(lines) + "\n"


def run(args) -> int:
    if not 1 <= args.digits <= 15:
        raise ChainruleError(f"the number of significant digits must be 1 to 15, not {args.digits}", "--digits")
    net = load_spec(args.spec)
    if isinstance(net, VecNetwork):
        from ..handout.batch import scalar_network

        net, _ = scalar_network(net)
    point = read_point(args.at, net)
    print(report(net, point, args.digits), end="")
    return 0
