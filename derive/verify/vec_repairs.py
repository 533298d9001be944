"""Repairs of a wrong vectorised claim tree: each single edit (a transpose, keepdims, ``*`` for ``@``, a
layer index, a sign) and each classic slip (σ'(Z_L) left out, the derivative at the wrong node or of the
wrong activation, dW transposed, the wrong axis), as (label, repaired tree)."""

from __future__ import annotations

import sympy as sp

from ..ops import ACTIVATIONS, record_of
from ..printing.text import text
from .claims import ClaimError
from .vec_read import _shown
from .vec_target import VecTarget, output_layer, resolve


def classic_repairs(net: VecTarget, name: str, tree):
    """The classic slips, each as a repair: σ'(Z_L) left out under a quadratic cost; σ' of the wrong
    node or of the activation instead of the pre-activation; the whole gradient transposed;
    ``axis=0`` for ``axis=1``."""
    show = lambda n: resolve(net, n)
    A_out = net.net.cost_operands[0]
    Z_out = net.equations[A_out].operands[0] if A_out in net.equations else None
    quadratic = record_of(record_of(net.net.loss).matched).is_identity  # the loss matched to a linear output
    g = net.activation.get(Z_out)
    if name == f"dZ{output_layer(net)}" and Z_out and quadratic and g and not record_of(g).is_identity:
        yield (
            (
                f"σ'(Z_L) left out: under a quadratic cost dZ{output_layer(net)} = ({A_out} − Y) ⊙ {g}'({Z_out}); "
                f"{A_out} − Y alone holds for σ with cross-entropy (or softmax with cross-entropy)"
            ),
            ("mul", tree, ("call", "g'", (("name", Z_out),))),
        )
    for path, node in _walk(tree):
        if node[0] == "call" and node[1].endswith("'") and len(node[2]) == 1:
            arg = node[2][0]
            for Z in net.activation:
                if arg == ("name", Z):
                    continue
                shown = _shown(node, show)
                label = f"the derivative at the wrong node: {shown} written for g'({Z})"
                if arg[0] == "name" and show(arg[1]).startswith("A"):
                    label += " (g' is taken at the pre-activation Z, not the activation A)"
                yield label, _replace(tree, path, ("call", "g'", (("name", Z),)))
        found = _derivative_form(net, node) if node[0] in ("mul", "jux", "sub") else None
        if found is None and node[0] == "mul":  # … * A2 * (1 - A2): the pair inside a longer product
            factors = _mul_factors(node)
            for i, j in ((i, j) for i in range(len(factors)) for j in range(len(factors)) if i < j):
                pair = _derivative_form(net, ("mul", factors[i], factors[j]))
                if pair is not None:
                    rest = [f for k, f in enumerate(factors) if k not in (i, j)]
                    _, A = pair
                    for Z in net.activation:
                        if net.equations.get(A) is not None and net.equations[A].operands[0] == Z:
                            continue
                        product = ("call", "g'", (("name", Z),))
                        for f in reversed(rest):
                            product = ("mul", f, product)
                        shown = _shown(("mul", factors[i], factors[j]), show)
                        yield (
                            f"the derivative at the wrong node: {shown} is the derivative at {A}; this needs g'({Z})",
                            _replace(tree, path, product),
                        )
                    break
        if found is not None:
            _used, A = found
            for Z in net.activation:
                if net.equations.get(A) is not None and net.equations[A].operands[0] == Z:
                    continue
                if net.activation[Z] not in DERIVATIVE_TEXT:
                    continue
                own = [a for a, eq in net.equations.items() if eq.kind == "activation" and eq.operands[0] == Z]
                label = (
                    f"the derivative at the wrong node: {_shown(node, show)} is the derivative at {A}; "
                    f"this needs g'({Z})"
                    + (f" = {DERIVATIVE_TEXT[net.activation[Z]].replace('A', own[0]).replace('Z', Z)}" if own else "")
                )
                yield label, _replace(tree, path, ("call", "g'", (("name", Z),)))
    if name.startswith("dW"):
        yield f"{name} transposed: the claim is {name}ᵀ (swap the factors of the product)", ("T", tree)
    for path, node in _walk(tree):
        if node[0] == "sum" and node[2] in (0, 1):
            other = 1 - node[2]
            label = (
                f"axis={node[2]} for axis={other}: np.sum(…, axis={node[2]}) sums over the "
                f"{'units (rows)' if node[2] == 0 else 'examples (columns)'}; "
                f"{'the examples are the columns: axis=1' if other == 1 else 'the units are the rows: axis=0'}"
            )
            yield label, _replace(tree, path, ("sum", node[1], other, node[3]))


def repairs(tree, show=lambda n: n):
    """(label, repaired tree) for every single edit: keepdims, a transpose, '*' vs '@', a layer index."""
    for path, node in _walk(tree):
        if node[0] == "sum" and not node[3]:
            shown = "np.sum(…)" if node[2] is None else f"np.sum(…, axis={node[2]})"
            yield (
                f"keepdims left out: {shown} gives a rank-1 array, not a column (use keepdims=True)",
                _replace(tree, path, ("sum", node[1], node[2], True)),
            )
    for path, node in _walk(tree):
        if node[0] == "name":
            yield (
                f"a missing transpose: {show(node[1])} written for {show(node[1])}.T",
                _replace(tree, path, ("T", node)),
            )
        if node[0] == "T":
            yield (
                f"an extra transpose: {_shown(node, show)} written for {_shown(node[1], show)}",
                _replace(tree, path, node[1]),
            )
    for path, node in _walk(tree):
        if node[0] in ("matmul", "jux") and node[1][0] != "num" and node[2][0] != "num":
            swapped = (node[0], node[2], node[1])
            yield (
                (
                    f"the product order reversed: {_shown(node, show)} written for {_shown(swapped, show)} "
                    "(a matrix product does not commute)"
                ),
                _replace(tree, path, swapped),
            )
    yield from _parentheses(tree, show)
    for path, node in _walk(tree):
        if node[0] in ("mul", "jux"):
            yield (
                f"'*' (element-wise) written for '@' (matrix product): in {_shown(node, show)}",
                _replace(tree, path, ("matmul", node[1], node[2])),
            )
        if node[0] in ("matmul", "jux"):
            yield (
                f"a matrix product written for '*' (element-wise, ⊙): in {_shown(node, show)}",
                _replace(tree, path, ("mul", node[1], node[2])),
            )
    for path, node in _walk(tree):
        if node[0] == "name" and show(node[1])[-1:] in ("1", "2"):
            name = show(node[1])
            other = name[:-1] + ("2" if name.endswith("1") else "1")
            yield f"a wrong layer index: {name} written for {other}", _replace(tree, path, ("name", other))
    for path, node in _walk(tree):
        if node[0] == "neg":
            yield "a flipped sign", _replace(tree, path, node[1])
        if node[0] in ("add", "sub"):
            other = "sub" if node[0] == "add" else "add"
            shown = _shown(node, show)
            yield (
                f"a flipped sign: '{'+' if node[0] == 'add' else '-'}' in {shown}",
                _replace(tree, path, (other, *node[1:])),
            )
    yield "a flipped sign", ("neg", tree)


def _parentheses(tree, show):
    """A misplaced parenthesis: ``(1 − x)²`` for ``1 − x²`` (and back), ``(a + b) c`` for ``a + b c`` (and
    ``a c + b``), ``a (b + c)`` for ``a b + c`` (and ``b + a c``)."""
    for path, node in _walk(tree):
        moved = []
        if node[0] == "pow" and node[1][0] == "sub" and node[1][1][0] == "num":
            moved.append(("sub", node[1][1], ("pow", node[1][2], node[2])))
        if node[0] == "sub" and node[1][0] == "num" and node[2][0] == "pow":
            moved.append(("pow", ("sub", node[1], node[2][1]), node[2][2]))
        if node[0] == "sub" and node[1] == ("num", 1) and _a_name(node[2]):  # tanh′ as 1 − A
            new = ("sub", node[1], ("pow", node[2], ("num", 2)))
            yield (
                f"the square left out: {_shown(node, show)} written for {_shown(new, show)}",
                _replace(tree, path, new),
            )
        if node[0] in ("mul", "jux", "matmul") and node[1][0] in ("add", "sub"):
            (op, a, b), c = node[1], node[2]
            moved += [(op, a, (node[0], b, c)), (op, (node[0], a, c), b)]
        if node[0] in ("mul", "jux", "matmul") and node[2][0] in ("add", "sub"):
            a, (op, b, c) = node[1], node[2]
            moved += [(op, (node[0], a, b), c), (op, b, (node[0], a, c))]
        for new in moved:
            yield (
                f"a misplaced parenthesis: {_shown(node, show)} written for {_shown(new, show)}",
                _replace(tree, path, new),
            )


def _a_name(node) -> bool:
    """A name, or a transposed one (a claim read in rows: d2l's ``H̃_t`` is ``n_tᵀ``)."""
    return node[0] == "name" or (node[0] == "T" and isinstance(node[1], tuple) and node[1][0] == "name")


def _derivative_text(record) -> str:
    """g' as a hint writes it, in A (the output) or Z (the input): A(1 − A), 1 − A², step(Z), GELU'(Z)."""
    if record.derivative is None:
        return f"{record.text}'(Z)"
    return text(record.derivative(sp.Symbol("A"), sp.Symbol("Z"))).replace("·", "")


# name -> g' as a hint writes it, for every activation taken entry by entry (its record's derivative)
DERIVATIVE_TEXT = {r.name: _derivative_text(r) for r in ACTIVATIONS.values() if r.elementwise}


def _with_derivative(scalar) -> str | None:
    """The activation whose record writes g'(z) as ``scalar(a)`` (σ: a(1 − a); tanh: 1 − a²)."""
    a, z = sp.symbols("a z")
    for r in ACTIVATIONS.values():
        if r.derivative is not None and sp.expand(r.derivative(a, z) - scalar(a)) == 0:
            return r.name
    return None


def derivative_repairs(net: VecTarget, tree):
    """The derivative of the wrong activation: σ' = A(1 − A) written where g1 is tanh (1 − A²), and so on."""
    for path, node in _walk(tree):
        found = _derivative_form(net, node)
        if found is None and node[0] == "mul":  # … * A1 * (1 - A1): the pair inside a longer product
            factors = _mul_factors(node)
            for i, j in ((i, j) for i in range(len(factors)) for j in range(len(factors)) if i != j):
                pair = _derivative_form(net, ("mul", factors[i], factors[j]))
                if pair is not None:
                    rest = [f for k, f in enumerate(factors) if k not in (i, j)]
                    found, node = pair, ("mul", factors[i], factors[j])
                    break
            if found is None:
                continue
            Z = net.equations[found[1]].operands[0] if found[1] in net.equations else None
            if net.activation.get(Z) in (None, found[0]):
                continue
            product = ("call", "g'", (("name", Z),))
            for f in reversed(rest):
                product = ("mul", f, product)
            label = _wrong_derivative_label(net, node, found[0], found[1], Z)
            yield label, _replace(tree, path, product)
            continue
        if found is None:
            continue
        used, A = found
        Z = net.equations[A].operands[0] if A in net.equations else None
        actual = net.activation.get(Z)
        if actual is None or actual == used:
            continue
        label = _wrong_derivative_label(net, node, used, A, Z)
        yield label, _replace(tree, path, ("call", "g'", (("name", Z),)))


def _wrong_derivative_label(net: VecTarget, node, used: str, A: str, Z: str) -> str:
    actual = net.activation[Z]
    formula = DERIVATIVE_TEXT.get(actual, "?").replace("A", A).replace("Z", Z)
    shown = _shown(node, lambda n: resolve(net, n))
    return (
        f"the derivative of the wrong activation: {shown} is {used}', but {A} = {actual}({Z}), so g'({Z}) = {formula}"
    )


def _mul_factors(node) -> list:
    if node[0] != "mul":
        return [node]
    return _mul_factors(node[1]) + _mul_factors(node[2])


def resolved(net: VecTarget, node) -> str | None:
    """The network's name of a ``("name", …)`` node, or None (not a name, or not the network's)."""
    if node[0] != "name":
        return None
    try:
        return resolve(net, node[1])
    except ClaimError:
        return None


def _derivative_form(net: VecTarget, node):
    """(activation, A) when ``node`` is A(1 − A), (1 − A)A or 1 − A²; else None."""

    def name(x):
        return resolved(net, x)

    if node[0] in ("mul", "jux"):
        a, b = node[1], node[2]
        for x, y in ((a, b), (b, a)):
            if y[0] == "sub" and y[1][0] == "num" and y[1][1] == 1 and name(x) and name(y[2]) == name(x):
                return _with_derivative(lambda a: a * (1 - a)), name(x)
    if node[0] == "sub" and node[1][0] == "num" and node[1][1] == 1 and node[2][0] == "pow":
        base, exponent = node[2][1], node[2][2]
        if exponent[0] == "num" and exponent[1] == 2 and name(base):
            return _with_derivative(lambda a: 1 - a**2), name(base)
    return None


def _walk(tree, path=()):
    yield path, tree
    if tree[0] in ("num", "name", "partial"):
        return
    children = tree[2] if tree[0] == "call" else tree[1:]
    for i, child in enumerate(children):
        if isinstance(child, tuple):
            yield from _walk(child, path + (i,))


def _replace(tree, path, new):
    if not path:
        return new
    i = path[0]
    if tree[0] == "call":
        args = list(tree[2])
        args[i] = _replace(args[i], path[1:], new)
        return ("call", tree[1], tuple(args))
    items = list(tree)
    items[i + 1] = _replace(items[i + 1], path[1:], new)
    return tuple(items)
