"""Reading a vectorised claim: its trees (text or LaTeX), the name it is for (``dW1`` from --wrt or
the left-hand side), and a claim tree shown in the network's names."""

from __future__ import annotations

from .claims import ClaimError, parse_text, split_equation, split_update, to_text
from .vec_target import VecTarget, resolve


def target_name(net: VecTarget, wrt: str | None, lhs, where=None) -> str:
    """The name a claim is for: ``dW1`` (``W1`` means ``dW1``), from --wrt or the left-hand side."""
    named = None
    if lhs is not None and lhs[0] == "update":
        if lhs[1][0] != "name" or resolve(net, lhs[1][1], where) not in net.params:
            raise ClaimError(f"an update assigns to a parameter ({', '.join(net.params)})", where)
        param = resolve(net, lhs[1][1], where)
        if wrt is not None and wrt not in (param, "d" + param):
            raise ClaimError(f"the update is for '{param}' but the claim is given for '{wrt}'", where)
        return param + "←"
    if lhs is not None:
        if lhs[0] == "jux" and lhs[1] == ("name", "d") and lhs[2][0] == "name":  # d W[1], \mathrm{d}W^{[1]}
            lhs = ("name", "d" + lhs[2][1])
        if lhs[0] == "partial":
            named = "d" + lhs[2] if lhs[1] in ("J", "L", "C") else None
        elif lhs[0] == "name":
            named = lhs[1]
        if named is None:
            raise ClaimError(f"the left-hand side '{to_text(lhs)}' does not name a variable", where)
    names = [n for n in (wrt, named) if n is not None]
    if not names:
        example = f"d{net.params[0]}" if net.params else "dW1"
        raise ClaimError(f"say which variable the claim is for (--wrt {example}, or a left-hand side)", where)
    known = net.names()
    out = []
    for n in names:
        r = resolve(net, n if n in known or ("d" + n) not in known else "d" + n, where)
        if r in net.params:
            r = "d" + r
        if r in net.data or r not in net.equations:
            raise ClaimError(f"'{r}' is data, not something derived (derived: {', '.join(net.equations)})", where)
        out.append(r)
    if len(out) == 2 and out[0] != out[1]:
        raise ClaimError(f"the left-hand side is {out[1]} but the claim is given for '{wrt}'", where)
    return out[0]


def read(net: VecTarget, claim: str, latex: bool, where=None):
    if latex:
        from .latex_reader import parse_latex

        return parse_latex(claim.strip().strip("$"), where, vector=True, known=net.knows)
    lhs, rhs = split_update(claim)
    if lhs is not None:
        return ("update", parse_text(lhs, where, net.knows)), parse_text(rhs, where, net.knows)
    lhs, rhs = split_equation(claim)
    return (parse_text(lhs, where, net.knows) if lhs is not None else None), parse_text(rhs, where, net.knows)


def _shown(tree, show) -> str:
    """A tree as text with the network's names (``A[1]`` → ``A1``)."""

    def rename(node):
        if node[0] == "name":
            try:
                return ("name", show(node[1]))
            except ClaimError:
                return node
        if node[0] in ("num", "partial"):
            return node
        if node[0] == "call":
            return ("call", node[1], tuple(rename(a) for a in node[2]))
        return (node[0], *(rename(x) if isinstance(x, tuple) else x for x in node[1:]))

    return to_text(rename(tree))
