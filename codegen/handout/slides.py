"""The handout as Beamer slides: the backward pass one chain-rule step per overlay.

From the context ``handout.build_context`` prepares for the LaTeX handout (the
same step objects, printed the same way), ``templates/slides.tex.jinja`` makes
frames: the network, its graph, the forward pass, then for each derived
parameter one frame whose overlays walk the chain rule — the chain stated
with the factor being derived in red, that factor's derivation, the product,
each cancellation, the boxed result — and the backward graph, all the
gradients, the batch equations and the update.

A matrix program's slides (``templates/slides_batch.tex.jinja``) show the
sections of its handout (``matrix.context``), cut into frames by ``frames``:
a display of more than ``FRAME_LINES`` lines over several frames, the
paragraphs before it on its first, each step of the derivation a frame.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .builder import HandoutOptions, build_context, environment, tidy
from .document import Display, Section, Text

FRAME_LINES = 8  # display lines on one frame, at most
FRAME_CHARS = 700  # characters of text on one frame
FRAME_DISPLAYS = 4  # a stage's displays on one frame, at most (six of a GRU's gate overflowed it)
LINE_CHARS = 95  # characters of a line of text on a frame (\\small)
LINE_HEIGHT = 0.055  # a line of text, as a fraction of the frame's height


@dataclass
class Frame:
    title: str
    blocks: list = field(default_factory=list)
    height: float = 0.6  # the most of the frame's height one display or figure takes (``room``)

    def chars(self) -> int:
        return sum(len(b.tex) for b in self.blocks if isinstance(b, Text))

    def room(self) -> float:
        """The height (a fraction of the frame's) each display or figure may take: what the text leaves, shared."""
        texts = [b.tex for b in self.blocks if isinstance(b, Text)] + [
            b.caption for b in self.blocks if b.kind == "picture"
        ]
        lines = sum(len(t) / LINE_CHARS + 0.6 for t in texts)
        shown = sum(1 for b in self.blocks if not isinstance(b, Text)) or 1
        return round(max(0.12, (0.78 - LINE_HEIGHT * lines) / shown - 0.03), 2)


def frames(sections: list[Section]) -> list[Frame]:
    """The frames of a matrix handout's slides, section by section (see the module docstring)."""
    out: list[Frame] = []
    for section in sections:
        if not section.slides:
            continue
        first = len(out)
        pending = Frame(section.title)
        for b in section.blocks:
            if isinstance(b, Text):
                if pending.chars() + len(b.tex) > FRAME_CHARS and pending.blocks:
                    out.append(pending)
                    pending = Frame(section.title)
                pending.blocks.append(b)
            elif b.kind == "items":
                if pending.blocks:
                    out.append(pending)
                    pending = Frame(section.title)
                for item in b.items:  # at most FRAME_DISPLAYS displays (each with its reason) on a frame
                    chunk: list = []
                    for block in item.blocks:
                        if (
                            not isinstance(block, Text)
                            and sum(not isinstance(c, Text) for c in chunk) == FRAME_DISPLAYS
                        ):
                            out.append(Frame(section.title, [Text(item.lead), *chunk]))
                            chunk = []
                        chunk.append(block)
                    out.append(Frame(section.title, [Text(item.lead), *chunk]))
            elif isinstance(b, Display):
                lines = b.lines()
                size = -(-len(lines) // -(-len(lines) // FRAME_LINES))  # frames as even as can be
                for start in range(0, len(lines), size):
                    chunk = [r for line in lines[start : start + size] for r in line]
                    pending.blocks.append(replace(b, rows=chunk))
                    out.append(pending)
                    pending = Frame(section.title)
            else:
                pending.blocks.append(b)
                out.append(pending)
                pending = Frame(section.title)
        if pending.blocks:
            out.append(pending)
        for k, frame in enumerate(out[first:]):
            if k:
                frame.title = f"{section.title} (continued)"
    for frame in out:
        frame.height = frame.room()
    return out


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
    if ctx.get("matrix"):
        ctx["frames"] = frames(ctx["document"])
        return tidy(environment().get_template("slides_batch.tex.jinja").render(**ctx))
    for block in ctx["backward"]["blocks"]:
        block["walk"] = walk(block)
    ctx["summary"] = [
        (left, re.sub(r"\\tag\{([^{}]*)\}", r"&& (\1)", right))
        for item in ctx["backward"]["summary"]
        for left, right in item
    ]
    return tidy(environment().get_template("slides.tex.jinja").render(**ctx))
