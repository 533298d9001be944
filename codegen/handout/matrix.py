"""The handout of a matrix program (any ``VecNetwork``): its sections as blocks (``document``), for every medium.

The program is derived in matrices (``VecNetwork.derive``) and every section
is written from that derivation, never from a network written out unit by
unit:

* the program: its forward and backward equations, numbered, with their
  shapes, and its computation graph (``render.program_graph``);
* a worked example: every equation's value at a small stated example
  (``worked``), with ``--digits`` significant digits;
* for a recurrence, backpropagation through time, with the graph unrolled;
* the derivation step by step: one item per equation the gradient is pulled
  back through, every operand's term with the reason the op gives, then each
  sum over uses, the output layer's cancellation and any collapsed rewrite;
* the sections of the further topics the program contains (``topics``), a
  convolution's and a pooling's (``conv``), a text model's own (``text``),
  and the update rule.

``context(vn, options)`` returns what the media render: ``document`` (the
sections), the title and the opening paragraph.
"""

from __future__ import annotations

from derive import ChainruleError
from derive.ir.recurrence import NEXT, carried_values, readable
from derive.ir.rewrites import NamedRewrite
from derive.ir.steps import Cancellation, SumOverTime, SumOverUses, VecChainRule
from derive.training import SECOND_ORDER, training_of

from ..render import graph_tikz, program_graph
from ..render.graph_layout import Figure
from ..render.latex_printer import HandoutLatexPrinter
from . import batch, conv, document, optimisers, second_order, topics, worked
from .document import Display, Item, Items, Picture, Row, Section, Text

STEP_OP = r"\mathrel{+}="


def context(vn, options) -> dict:
    """Everything a medium needs to render the handout of ``vn`` (see the module docstring) but its title
    and the switches of its sections (``builder.build_context`` adds them)."""
    if not 1 <= options.digits <= 15:
        raise ChainruleError(f"the number of significant digits must be 1 to 15, not {options.digits}", "--digits")
    params = vn.names("param")
    for name in options.expand:  # every parameter is derived; a name that is none is still a mistake
        if name != "all" and name not in params:
            raise ChainruleError(
                f"'{name}' is not a parameter of '{vn.name}' (it has: {', '.join(params)})", "--expand"
            )
    if options.example is not None:
        raise ChainruleError(
            f"network '{vn.name}' has no example '{options.example}' (examples: none; its worked example is drawn"
            " with --seed)",
            "--example",
        )
    vd = vn.derive()
    mp = batch.matrix_printer(vn, HandoutLatexPrinter({"digits": options.digits}), options)
    shown = set(options.sections)
    program = Program(vn, vd, mp, options)
    sections: list[Section] = []
    found = topics.topics(vn, vd, mp)
    if getattr(vn, "text_task", None) is not None:
        from .text import model_section

        sections.append(model_section(vn, vd))
    if shown & {"network", "vectorised"}:
        sections.append(program.equations_section())
    if shown & {"forward", "backward"}:
        sections.append(program.worked_section("backward" in shown and not options.exercise))
    if vn.recurrence is not None and shown & {"network", "vectorised", "backward"}:
        from .recurrence import bptt_section

        sections.append(bptt_section(vn, vd, mp, program.label))
    if "backward" in shown and not options.exercise:
        sections.append(program.steps_section())
    sections.extend(topics.sections(found, vn))
    image = conv.section(vn, vd, mp)  # a program with a convolution or a pooling: the courses' forms
    if image is not None:
        sections.append(image)
    second = second_order.document_section(vn, vd, mp) if "backward" in shown and not options.exercise else None
    sections += [second] if second else []
    if getattr(vn, "text_task", None) is not None:
        from .text import training_section

        sections.append(training_section(vn, vd))
    if "update" in shown:
        sections.append(program.update_section())
    if options.exercise and options.solutions == "appendix" and shown & {"network", "vectorised"}:
        solutions = program.equations_section(answers=True)
        sections.append(Section("solutions", "Solutions", solutions.blocks, appendix=True, slides=False))
    return {
        "plain": {"title": vn.name.replace("_", " "), "name": vn.name, "doc": vn.doc},
        "intro": intro(vn, mp),
        "document": sections,
        "exercise": options.exercise,
        "pgfplots": found["depth"] is not None,
        "loss": "L",
    }


def intro(vn, mp) -> str:
    """The paragraph before section 1: what kind of program this is, and how it is derived."""
    if vn.recurrence is not None:
        states = " and ".join(f"${mp.name(h + '_t')}$" for h in vn.recurrence.states)
        return (
            r"This network reads a sequence: its equations are declared once, for one time step $t$, and run for"
            rf" $t = 1, \dots, T$ with the state {states} carried from step to step. Its gradients are derived"
            r" in matrices by backpropagation through time: one backward sweep over the step, with the terms time"
            r" adds (Goodfellow et al., \emph{Deep Learning} \S10.2.2; deeplearning.ai, \emph{Sequence Models},"
            r" week~1)."
        )
    image = conv.intro(vn)
    if image is not None:
        return image
    if getattr(vn, "text_task", None) is not None and vn.chain:
        return (
            r"A text model (J\&M, ch.~7), derived in matrices: one column per text, its equations and their"
            r" gradients as the engine derives them."
        )
    if vn.chain:
        return (
            r"This network is a chain of layers declared in matrices, with one column per example (deeplearning.ai,"
            r" \emph{Neural Networks and Deep Learning}, weeks~3 and~4). Its gradients are derived in matrices, one"
            r" equation at a time, backwards from the cost."
        )
    return (
        r"This network is a program of matrix equations that is not a plain chain of layers: a quantity is used more"
        r" than once, or the cost has terms beside the loss. Its gradients are derived in matrices, one operation at"
        r" a time, backwards from the cost; where a quantity is used more than once, its gradient is the sum of the"
        r" terms its uses send back."
    )


class Program:
    """The sections written from the program's derivation (equations, graph, worked example, steps, update)."""

    def __init__(self, vn, vd, mp, options):
        self.vn, self.vd, self.mp, self.options = vn, vd, mp, options
        self.rec = vn.recurrence
        self.carried = carried_values(vd.backward, self.rec) if self.rec is not None else {}
        self.numbers = {e.target: e.number for e in vd.equations}

    # ------------------------------------------------------------ names
    def label(self, name: str, when: str) -> str:
        """A name as the handout writes it: at time ``when`` (``t``, ``t-1``, a step number) or without time."""
        rec = self.rec
        if rec is not None and name in rec.previous:
            name = rec.previous[name]
        return self.mp.name(f"{name}_{when}" if when else name)

    def equation(self, e) -> dict:
        """One equation as the handout prints it: number, lhs, rhs, shape."""
        if self.rec is not None:
            from .recurrence import equation_row

            return equation_row(e, self.rec, self.carried, self.mp)
        return batch.equation_row(e, self.mp)

    def rows(self, equations, answers: bool) -> list[Row]:
        out = []
        for e in equations:
            row = self.equation(e)
            out += document.rows(row["lhs"], row["rhs"], number=row["number"], shape=row["shape"], answer=answers)
        return out

    # ------------------------------------------------------------ sections
    def equations_section(self, answers: bool = False) -> Section:
        vn, mp = self.vn, self.mp
        dims = ", ".join(f"{mp.name(s.name)} = {n}" for s, n in sorted(vn.dim_sizes.items(), key=lambda t: t[0].name))
        cost = (
            r"The cost is the loss summed over the examples, $J = \sum_{\text{examples}} L$."
            if self.vd.example_scale == 1
            else r"The cost is the mean loss, $J = \frac{1}{m} \sum_{\text{examples}} L$."
        )
        reconstructs = getattr(vn, "reconstructs", None)
        if reconstructs:
            cost += rf" The target is the input itself, $Y = {mp.name(reconstructs)}$: the network reconstructs it."
        blocks = [
            Text(
                r"For a batch of $m$ examples, stacked as the columns of the inputs and targets, the network is a few"
                rf" matrix equations (here ${dims}$). {cost}"
            ),
            Display(self.rows(self.vd.forward, False)),
            self.graph_picture(),
            Text(
                r"Backward, with $\mathrm{d}Q$ the gradient $\partial L / \partial Q$ of each example, stacked in"
                r" columns, and $\mathrm{d}W$, $\mathrm{d}b$ the gradients of $J$ itself"
                + (
                    r" ($\delta^{[l]}$ stands for $\mathrm{d}Z^{[l]}$, the error of layer $l$)"
                    if self.options.delta == "delta"
                    else ""
                )
                + r"; $\odot$ multiplies entry by entry:"
                + (
                    " each follows from one application of the chain rule to one forward equation."
                    if self.options.exercise and not answers
                    else ""
                )
            ),
            Display(self.rows(self.vd.backward, not answers and self.options.exercise)),
        ]
        return Section("network", "The network and its gradients in matrices", blocks, label="sec:batch")

    def graph_picture(self) -> Picture:
        graph = program_graph.program(self.vn, self.label, document.visible_width)
        parts = ["each quantity (blue) with the parameters that enter it (yellow), the inputs (grey)"]
        if self.vn.names("target"):
            parts.append("the targets (dashed)")
        caption = "The computation graph of the program: " + ", ".join(parts)
        if graph.carries:
            caption += (
                r"; the previous states (dashed blue) and, along the top and bottom, each new state carried to the"
                r" next step, which reads it as its previous one"
            )
        figure = Figure(graph)
        return Picture(caption + ".", figure=figure, tikz=graph_tikz.tikz(graph))

    def worked_section(self, backward: bool) -> Section:
        vn, mp = self.vn, self.mp
        ex = worked.example(vn, self.vd, self.options.seed)
        sized = ", ".join(f"{mp.name(s.name)} = {ex.dims[s]}" for s in sorted(vn.dim_sizes, key=lambda s: s.name))
        blocks = [
            Text(
                rf"The equations hold at any size; here they are worked at a small example: ${sized}$, $m = {ex.dims[vn.m]}$"
                r" examples, with values drawn from a seed (\texttt{--seed} "
                rf"{self.options.seed}) with one decimal, and {self.options.digits} significant digits."
                + (
                    rf" A matrix of more than {document.MATRIX_ROWS} rows or {document.MATRIX_COLUMNS} columns is too"
                    r" large for a page: it is given by its shape, $\in \mathbb{R}^{\text{rows} \times \text{columns}}$."
                    if any(document.too_large(v)[0] for v in ex.every_value())
                    else ""
                )
            )
        ]
        given = [self._value_row(self.label(n, ""), v) for n, v in ex.leaves.items()]
        blocks.append(Text("The parameters and the data:" if given else "The data:"))
        blocks.append(Display(given, pairs=True))
        if self.rec is None:
            blocks.append(Text("Forward, each equation in turn:"))
            blocks.append(Display(self._values(self.vd.forward, ex.values), pairs=True))
            if backward:
                blocks.append(Text("Backward, each equation in turn:"))
                blocks.append(Display(self._values(self.vd.backward, ex.values), pairs=True))
        else:
            blocks += self._timed_values(ex, backward)
        return Section("worked", "A worked example", blocks, label="sec:worked")

    def _values(self, equations, values, when=None) -> list[Row]:
        return [self._value_row(self._lhs(e, when), values[e.target]) for e in equations if e.target in values]

    def _value_row(self, lhs: str, value) -> Row:
        rows, cols = document.too_large(value)
        if rows:  # a page cannot show it: its shape alone
            return Row(lhs, rf"\mathbb{{R}}^{{{rows} \times {cols}}}", op=r"\in")
        tex = document.matrix_latex(value, self.mp.num)
        return Row(lhs, tex, width=document.matrix_width(tex))

    def _lhs(self, e, when) -> str:
        """An equation's left side, at step ``when`` of a recurrence (a number) or as the equation prints it."""
        rec = self.rec
        if rec is None or when is None:
            return self.equation(e)["lhs"]
        base = e.target.removeprefix("d")
        d = "d" if base != e.target else ""
        if base in rec.previous:  # what step ``when`` sends back to the one before: not yet that state's gradient
            return rf"\left.{self.mp.name(f'd{rec.previous[base]}_t-1')}\right|_{{t={when}}}"
        return self.mp.name(f"{d}{base}_{when}")

    def _timed_values(self, ex, backward: bool) -> list:
        from derive.ir.recurrence import time_of

        rec, vd = self.rec, self.vd
        step = [e for e in vd.forward if time_of(e, rec) == "t"]
        after = [e for e in vd.forward if time_of(e, rec) == ""]
        steps = len(ex.steps)
        blocks = []
        for t in range(1, steps + 1):
            leaves = [self._value_row(self.label(n, str(t)), v) for n, v in ex.steps[t - 1].items()]
            blocks.append(
                Text(f"Step $t = {t}$ (the previous states are 0 at $t = 1$):" if t == 1 else f"Step $t = {t}$:")
            )
            blocks.append(Display(leaves + self._values(step, ex.per_step[t - 1], t), pairs=True))
        blocks.append(Text(f"After the last step ($t = T = {steps}$):"))
        blocks.append(Display(self._values(after, ex.after), pairs=True))
        if not backward:
            return blocks
        outside = [e for e in vd.backward if time_of(e, rec) in ("", "boundary") and e.target in ex.after]
        blocks.append(Text("Backward, after the last step, and what step $T + 1$ would send back:"))
        blocks.append(Display(self._values(outside, ex.after), pairs=True))
        inside = [e for e in vd.backward if time_of(e, rec) == "t"]
        for t in range(steps, 0, -1):
            blocks.append(Text(f"Backward through step $t = {t}$:"))
            blocks.append(Display(self._values(inside, ex.per_step[t - 1], t), pairs=True))
        sums = [e for e in vd.backward if time_of(e, rec) == "sum"]
        blocks.append(Text(r"The parameters' gradients, summed over $t$:"))
        blocks.append(Display(self._values(sums, ex.after), pairs=True))
        return blocks

    def steps_section(self) -> Section:
        vn, mp = self.vn, self.mp
        blocks = []
        if vn.constant_values:
            constants = ", ".join(
                f"${batch.GREEK_LATEX.get(n, mp.name(n))} = {topics.number_latex(v)}$"
                for n, v in vn.constant_values.items()
            )
            blocks.append(Text(f"The constants {constants} are hyperparameters: they are not trained."))
        blocks.append(
            Text(
                r"Each equation is taken once, from the cost back: the gradient $G$ of the quantity it defines is pulled"
                r" back to each of its operands, by the rule of its operation (in brackets); a quantity used more than"
                r" once then adds up the terms its uses send back."
            )
        )
        blocks.append(Items(self.steps()))
        return Section("steps", "The derivation, step by step", blocks, label="sec:steps")

    def steps(self) -> list[Item]:
        """The derivation's steps, one item per equation pulled back through (every operand's term under it)."""
        items: list[Item] = []
        through: dict[str, Item] = {}
        for s in self.vd.steps:
            if isinstance(s, VecChainRule) and s.via != NEXT:
                if s.via not in through:
                    through[s.via] = self._through(s)
                    items.append(through[s.via])
                through[s.via].blocks += self._pulled_back(s)
            elif isinstance(s, VecChainRule):
                items.append(self._next(s))
            elif isinstance(s, SumOverTime):
                items.append(self._over_time(s))
            elif isinstance(s, SumOverUses):
                items.append(self._over_uses(s))
            elif isinstance(s, NamedRewrite):
                items.append(self._rewrite(s))
            elif isinstance(s, Cancellation):
                before, after = self.mp.doprint(s.before), self.mp.doprint(s.after)
                items.append(
                    Item("The output layer's terms cancel:", [_one(self.mp.name(s.target), f"{before} = {after}")])
                )
        return items

    def _timed(self, s: VecChainRule):
        """(target, via, the renaming of its expressions) of a chain-rule step, with time in a recurrence."""
        from .recurrence import rule_step

        return rule_step(s, self.rec, self.vn.kinds) if self.rec is not None else (s.target, s.via, _same)

    def _through(self, s: VecChainRule) -> Item:
        _, via, show = self._timed(s)
        number = self.numbers.get(s.via, self.numbers.get("J"))
        name = "J" if s.via == "J" else self.mp.name(via)
        return Item(rf"Through ({number}) ${name} = {self.mp.doprint(show(s.definition))}$:")

    def _pulled_back(self, s: VecChainRule) -> list:
        target, _, show = self._timed(s)
        return [_one(self.mp.name(target), self.mp.doprint(show(s.expr)), STEP_OP), Text(f"({s.latex})", small=True)]

    def _next(self, s: VecChainRule) -> Item:
        from .recurrence import next_step

        step = next_step(s, self.rec, self.carried, self.mp)
        lead = (
            rf"Step $t+1$ reads ${step['state']}$ as its ${step['previous']}$; what its equations send back to it is"
            r" one more use:"
        )
        return Item(lead, [_one(step["lhs"], step["rhs"], STEP_OP)])

    def _over_time(self, s: SumOverTime) -> Item:
        mp = self.mp
        lead = (
            rf"${mp.name(s.target[1:])}$ is used at every step $t = 1, \dots, T$, so its gradient is the sum over $t$"
            r" of step $t$'s term:"
        )
        total = readable(self.vd.equation(s.target), self.rec, {}, latex=True)
        return Item(lead, [_one(mp.name(s.target), mp.doprint(total))])

    def _over_uses(self, s: SumOverUses) -> Item:
        mp = self.mp
        if self.rec is not None:
            from .recurrence import sum_step

            lhs, name, terms = sum_step(s, self.rec, self.vn.kinds, self.carried, mp)
        else:
            lhs, name = mp.name(s.target), mp.name(s.target[1:])
            terms = [("J" if via == "J" else mp.name(via), mp.doprint(expr)) for via, expr in s.terms]
        rhs = " + ".join(rf"\underbrace{{{t}}}_{{\text{{from }} {label}}}" for label, t in terms)
        uses = ", ".join(f"${label}$" for label, _ in terms)
        lead = (
            rf"${name}$ is used {len(terms)} times (by {uses}), so its gradient is the sum of the {len(terms)} terms:"
        )
        return Item(lead, [_one(lhs, rhs)])

    def _rewrite(self, s: NamedRewrite) -> Item:
        mp = self.mp
        error = f"{s.error:.0e}".replace("e-", r"\times 10^{-") + "}" if s.error else "0"
        substituted = Text(
            r"Substituting each stage into the next collapses them into one line (checked against the stages at random"
            rf" values; largest relative difference ${error}$):"
        )
        staged = Display([Row(mp.name(t), mp.doprint(e)) for t, e in s.staged])
        after = Display(document.rows(mp.name(s.target), mp.doprint(s.after), document.LINE_WIDTH))
        return Item(f"The steps above give {s.name} in stages:", [staged, substituted, after])

    def update_section(self) -> Section:
        mp = self.mp
        rule = [
            Row(mp.name(p), rf"{mp.name(p)} - \alpha\, {mp.name('d' + p)}", op=r"\leftarrow")
            for p in self.vn.names("param")
        ]
        blocks = [
            Text(
                r"Gradient descent moves every parameter against the gradient of the cost, with learning rate $\alpha$:"
            ),
            Display(rule),
        ]
        if self.options.optimizer != "sgd":  # --optimizer: its rule, for every parameter θ
            blocks += optimisers.blocks(self.options.optimizer)
        training = training_of(self.vn)
        if training.optimizer in SECOND_ORDER:
            blocks.append(optimisers.newton(training.lr))
        return Section("update", "The update rule", blocks)


def _same(expr):
    return expr


def _one(lhs: str, rhs: str, op: str = "=") -> Display:
    """A display of one equation."""
    return Display([Row(lhs, rhs, op=op)])


def equations_of(ctx) -> list[tuple[int, str]]:
    """The numbered equations of a handout's sections: (number, its lines' LaTeX), as every medium prints them."""
    out = []
    for section in ctx["document"]:
        if section.appendix:
            continue
        for block in section.blocks:
            if not (isinstance(block, Display) and block.numbered):
                continue
            for row in block.rows:
                if row.number is not None:
                    out.append((row.number, f"{row.lhs} {row.op} {row.rhs}"))
                elif not row.lhs:  # a long equation's next line
                    out[-1] = (out[-1][0], f"{out[-1][1]} {row.rhs}")
    return out
