"""The handout as Beamer slides: the backward pass one chain-rule step per overlay.

From the context ``handout.build_context`` prepares for the LaTeX handout (the
same step objects, printed the same way), ``templates/slides.tex.jinja`` makes
frames: the network, its graph, the forward pass, then for each derived
parameter one frame whose overlays walk the chain rule — the chain stated
with the factor being derived in red, that factor's derivation, the product,
each cancellation, the boxed result — and the backward graph, all the
gradients, the batch equations and the update.
"""

from __future__ import annotations

import re

from .builder import HandoutOptions, build_context, environment, tidy

MARK = r"\textcolor{red}"


def _mark(rows, partial: str):
    """The chain-rule rows with every occurrence of the factor ``partial`` in red."""
    return [(left, right.replace(partial, f"{MARK}{{{partial}}}")) for left, right in rows]


def walk(block: dict) -> list[dict]:
    """One overlay per step of one parameter's derivation: what it shows under the chain rule."""
    steps = []
    if not block.get("direct"):
        for f in block["factors"]:
            steps.append(
                {"what": "factor", "chain": _mark(block["chain"], f["lhs"]), "rows": f["rows"], "why": f["why"]}
            )
        steps.append({"what": "product", "chain": block["chain"], "rows": block["product"], "why": ""})
        for c in block["cancels"]:
            steps.append({"what": "cancel", "chain": block["chain"], "rows": c["rows"], "why": c["why"]})
    else:
        for f in block["factors"]:
            steps.append({"what": "factor", "chain": [], "rows": f["rows"], "why": f["why"]})
    chain = [] if block.get("direct") else block["chain"]  # a direct use has no chain: ∂L/∂c = ∂L/∂c says nothing
    steps.append({"what": "result", "chain": chain, "rows": block["result"], "why": ""})
    return steps


def render(net, options: HandoutOptions | None = None) -> str:
    """Beamer slides for ``net`` as LaTeX source."""
    options = options or HandoutOptions()
    options = HandoutOptions(**{**options.__dict__, "exercise": False})
    ctx = build_context(net, options)
    if ctx.get("batch_only"):
        from derive import ChainruleError

        raise ChainruleError(
            f"'{net.name}' {matrices_only_reason(ctx)}: its handout is in matrices only, "
            "which has no slides yet (write NAME.tex without --slides)",
            "--slides",
        )
    for block in ctx["backward"]["blocks"]:
        block["walk"] = walk(block)
    ctx["summary"] = [
        (left, re.sub(r"\\tag\{([^{}]*)\}", r"&& (\1)", right))
        for item in ctx["backward"]["summary"]
        for left, right in item
    ]
    return tidy(environment().get_template("slides.tex.jinja").render(**ctx))
