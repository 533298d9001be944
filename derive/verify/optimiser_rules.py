"""The update rules of the optimisers a generated module trains with, one record each, keyed by the name
``derive.training.OPTIMIZERS`` gives it: what ``chainrule verify adam --claim …`` checks a claim against.

Each rule is the generated module's own (``update`` in codegen/templates/train_module.py.jinja), for one
parameter entry θ with gradient g_t, state initialised to 0 and t counted from 1:

* sgd:       θ_t = θ_{t−1} − α g_t
* momentum:  v_t = μ v_{t−1} + g_t;  θ_t = θ_{t−1} − α v_t                      (PyTorch's, d2l §12.6's)
* adagrad:   G_t = G_{t−1} + g_t²;  θ_t = θ_{t−1} − α g_t/(√G_t + ε)            (Duchi et al., 2011)
* rmsprop:   s_t = ρ s_{t−1} + (1 − ρ) g_t²;  θ_t = θ_{t−1} − α g_t/(√s_t + ε)  (Hinton's lecture 6e)
* adam:      m_t = β1 m_{t−1} + (1 − β1) g_t;  v_t = β2 v_{t−1} + (1 − β2) g_t²;
             m̂_t = m_t/(1 − β1^t);  v̂_t = v_t/(1 − β2^t);  θ_t = θ_{t−1} − α m̂_t/(√v̂_t + ε)
             (Kingma and Ba, 2015, Algorithm 1; d2l §12.10 writes v for m, s for v, x for θ, η for α)

A record holds the definitions (each quantity in the inputs and the quantities before it), the notations
a course prints it in (the written names and how each is shown), and the slips: each an edit of the
definitions, the rule as the slip would have it, named in the claim's own notation.  A slip marked
``variant`` is a form other texts print on purpose (ε inside the square root, the paper's efficient form,
β2 = 0.99): reported as a variant of the module's form, not as a mistake.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp

# the symbols of every rule: a quantity at step t is Symbol(key), its value before the step Symbol(key_prev)
g, t, alpha, eps = sp.symbols("g t alpha eps")
beta1, beta2, mu, rho = sp.symbols("beta1 beta2 mu rho")


def now(key: str) -> sp.Symbol:
    return sp.Symbol(key)


def prev(key: str) -> sp.Symbol:
    return sp.Symbol(f"{key}_prev")


theta, theta_prev = now("theta"), prev("theta")
delta = now("delta")


@dataclass(frozen=True)
class Notation:
    """How a course writes a rule: ``names`` maps each written name to the rule's key (``s`` → ``v`` in
    d2l), ``shown`` each key to its printed letter; ``marks`` are written names only this notation uses."""

    name: str
    title: str
    names: dict[str, str]
    shown: dict[str, str]
    marks: frozenset = frozenset()


@dataclass(frozen=True)
class Slip:
    """A slip (or a documented variant) as the rule it makes: ``edit`` gives new definitions of some keys;
    ``label`` is a sentence with the notation's letters as ``{m}``, ``{mhat}``, ``{theta}``, ``{alpha}``…"""

    label: str
    edit: dict[str, sp.Expr]
    variant: bool = False


@dataclass(frozen=True)
class Rule:
    name: str  # as derive.training.OPTIMIZERS names it
    title: str
    definitions: tuple[tuple[str, sp.Expr], ...]  # (key, definition), each in the inputs and the keys before it
    state: tuple[str, ...]  # the keys carried from step to step (their previous values are inputs) besides θ
    lines: dict[str, str]  # key -> the module's definition as printed, with the notation's letters
    notations: tuple[Notation, ...]
    slips: tuple[Slip, ...]
    defaults: dict[str, float] = field(default_factory=dict)  # the module's defaults of the hyperparameters
    other_values: dict[str, tuple[tuple[float, str], ...]] = field(default_factory=dict)  # documented variants

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.definitions)

    def notation(self, name: str) -> Notation:
        return next(n for n in self.notations if n.name == name)

    def resolved(self, edit: dict | None = None) -> dict[str, sp.Expr]:
        """Every key written out in the inputs (the rule as ``edit`` has it)."""
        out: dict[str, sp.Expr] = {}
        for key, definition in self.definitions:
            out[key] = (edit or {}).get(key, definition).xreplace({now(k): v for k, v in out.items()})
        return out

    def inputs(self) -> tuple[sp.Symbol, ...]:
        return tuple(sorted(set().union(*(e.free_symbols for e in self.resolved().values())), key=str))


COMMON = {"g": "g", "grad": "g", "t": "t", "alpha": "alpha", "eta": "alpha", "lr": "alpha", "eps": "eps"}
COMMON_SHOWN = {"g": "g", "t": "t", "alpha": "α", "eps": "ε", "delta": "Δθ"}
PARAMETER = {"theta": "theta", "w": "theta", "x": "theta"}


def _plain(names: dict[str, str], shown: dict[str, str]) -> tuple[Notation, ...]:
    """The one notation of a rule the courses all write alike."""
    return (Notation("module", "the module's notation", {**COMMON, **PARAMETER, **names}, {**COMMON_SHOWN, **shown}),)


def _common_slips(numerator: sp.Expr, second: str, where: str) -> tuple[Slip, ...]:
    """The slips of a step α·numerator/(√second + ε): the sign, α, ε, the square root."""
    root = sp.sqrt(now(second))
    return (
        Slip(
            "the sign of the step: {theta}_t = {theta}_{{t−1}} + … climbs the gradient; descent subtracts the step",
            {"theta": theta_prev + delta},
        ),
        Slip("the rate {alpha} left out of the step", {"delta": numerator / (root + eps)}),
        Slip(
            "the rate {alpha} divides the step instead of multiplying it", {"delta": numerator / (alpha * (root + eps))}
        ),
        Slip(
            f"the square root left out: dividing by {{{second}}}_t + ε, not by √{{{second}}}_t + ε (the step then"
            " depends on the scale of g)",
            {"delta": alpha * numerator / (now(second) + eps)},
        ),
        Slip(
            f"ε left out: the module adds ε to √{{{second}}}_t so that the step stays finite {where}",
            {"delta": alpha * numerator / root},
        ),
        Slip(
            "ε added to the step, not to the denominator: write {alpha}·…/(√" + f"{{{second}}}_t + ε), with the"
            " parentheses",
            {"theta": theta_prev - alpha * numerator / root + eps},
        ),
        Slip(
            f"not the form the module uses: this is the ε-inside-√ variant, √({{{second}}}_t + ε) for"
            f" √{{{second}}}_t + ε (other texts, d2l among them for Adagrad and RMSProp); it differs where"
            f" {{{second}}}_t is near ε and agrees where it is much larger",
            {"delta": alpha * numerator / sp.sqrt(now(second) + eps)},
            variant=True,
        ),
    )


# ------------------------------------------------------------------ the rules
SGD = Rule(
    "sgd",
    "gradient descent",
    (("delta", alpha * g), ("theta", theta_prev - delta)),
    (),
    {"theta": "{theta}_t = {theta}_{{t−1}} − {alpha}·g_t", "delta": "{alpha}·g_t"},
    _plain({}, {"theta": "θ"}),
    (
        Slip(
            "the sign of the step: {theta}_t = {theta}_{{t−1}} + {alpha}·g_t climbs the gradient",
            {"theta": theta_prev + delta},
        ),
        Slip("the rate {alpha} left out of the step", {"delta": g}),
    ),
)

MOMENTUM = Rule(
    "momentum",
    "gradient descent with momentum (PyTorch's SGD(momentum=μ), d2l §12.6)",
    (("v", mu * prev("v") + g), ("delta", alpha * now("v")), ("theta", theta_prev - delta)),
    ("v",),
    {
        "v": "{v}_t = {mu}·{v}_{{t−1}} + g_t",
        "delta": "{alpha}·{v}_t",
        "theta": "{theta}_t = {theta}_{{t−1}} − {alpha}·{v}_t",
    },
    _plain({"v": "v", "mu": "mu", "beta": "mu", "momentum": "mu"}, {"theta": "θ", "v": "v", "mu": "μ"}),
    (
        Slip(
            "not the form the module uses: this is the exponential-average form {v}_t = {mu}·{v}_{{t−1}} +"
            " (1 − {mu})·g_t (deeplearning.ai's); its velocity is (1 − {mu}) times the module's, the same steps"
            " with the rate {alpha}/(1 − {mu})",
            {"v": mu * prev("v") + (1 - mu) * g},
            variant=True,
        ),
        Slip(
            "{mu} multiplies the gradient instead of the old velocity: {v}_t = {v}_{{t−1}} + {mu}·g_t",
            {"v": prev("v") + mu * g},
        ),
        Slip(
            "the decay {mu} left out: {v}_t = {v}_{{t−1}} + g_t adds up every past gradient undamped",
            {"v": prev("v") + g},
        ),
        Slip(
            "the step uses g_t, not the velocity {v}_t (that is plain gradient descent)",
            {"delta": alpha * g},
        ),
        Slip(
            "the sign of the step: {theta}_t = {theta}_{{t−1}} + {alpha}·{v}_t climbs the gradient",
            {"theta": theta_prev + delta},
        ),
    ),
    defaults={"mu": 0.9},
)

ADAGRAD = Rule(
    "adagrad",
    "Adagrad (Duchi, Hazan and Singer, 2011)",
    (("G", prev("G") + g**2), ("delta", alpha * g / (sp.sqrt(now("G")) + eps)), ("theta", theta_prev - delta)),
    ("G",),
    {
        "G": "{G}_t = {G}_{{t−1}} + g_t²",
        "delta": "{alpha}·g_t/(√{G}_t + ε)",
        "theta": "{theta}_t = {theta}_{{t−1}} − {alpha}·g_t/(√{G}_t + ε)",
    },
    _plain({"G": "G", "s": "G", "cache": "G"}, {"theta": "θ", "G": "G"}),
    (
        Slip("g_t for g_t² in the sum: {G} adds up squared gradients", {"G": prev("G") + g}),
        Slip(
            "{G} replaced, not accumulated: {G}_t = g_t² forgets the past; Adagrad adds up every g²",
            {"G": g**2},
        ),
        *_common_slips(g, "G", "while no gradient has been seen"),
    ),
    defaults={"eps": 1e-8},
)

RMSPROP = Rule(
    "rmsprop",
    "RMSProp (Hinton, Neural Networks for Machine Learning, lecture 6e)",
    (
        ("s", rho * prev("s") + (1 - rho) * g**2),
        ("delta", alpha * g / (sp.sqrt(now("s")) + eps)),
        ("theta", theta_prev - delta),
    ),
    ("s",),
    {
        "s": "{s}_t = {rho}·{s}_{{t−1}} + (1 − {rho})·g_t²",
        "delta": "{alpha}·g_t/(√{s}_t + ε)",
        "theta": "{theta}_t = {theta}_{{t−1}} − {alpha}·g_t/(√{s}_t + ε)",
    },
    _plain(
        {"s": "s", "v": "s", "cache": "s", "rho": "rho", "gamma": "rho", "beta": "rho", "decay": "rho"},
        {"theta": "θ", "s": "s", "rho": "ρ"},
    ),
    (
        Slip(
            "{rho} and 1 − {rho} swapped: {s}_t = (1 − {rho})·{s}_{{t−1}} + {rho}·g_t² weighs the new g² by {rho}",
            {"s": (1 - rho) * prev("s") + rho * g**2},
        ),
        Slip("g_t for g_t² in the average: {s} averages squared gradients", {"s": rho * prev("s") + (1 - rho) * g}),
        Slip(
            "the average not decayed: {s}_t = {s}_{{t−1}} + g_t² is Adagrad's sum, not RMSProp's average",
            {"s": prev("s") + g**2},
        ),
        *_common_slips(g, "s", "where g has been near 0"),
    ),
    defaults={"rho": 0.9, "eps": 1e-8},
)


def _adam_slips() -> tuple[Slip, ...]:
    m, v, mhat, vhat = now("m"), now("v"), now("mhat"), now("vhat")
    out = []
    moments = (("m", "mhat", beta1, "β1", "first"), ("v", "vhat", beta2, "β2", "second"))
    late = {"mhat": m / (1 - beta1 ** (t - 1)), "vhat": v / (1 - beta2 ** (t - 1))}
    out.append(
        Slip(
            "t counted from 0 in the bias corrections: 1 − β^(t−1) for 1 − β^t. t counts from 1: after the first"
            " step {m}_1 = (1 − β1)·g_1 and {mhat}_1 = g_1 (from 0 the first step would divide by 1 − β^0 = 0)",
            late,
        )
    )
    out.append(
        Slip(
            "the bias corrections left out: {m}_t and {v}_t used for {mhat}_t = {m}_t/(1 − β1^t) and {vhat}_t ="
            " {v}_t/(1 − β2^t); both start at 0 and are biased towards 0 by the factor 1 − β^t",
            {"mhat": m, "vhat": v},
        )
    )
    for raw, hat, beta, b, which in moments:
        out.append(
            Slip(
                f"t counted from 0 in the {which} moment's bias correction: 1 − {b}^(t−1) for 1 − {b}^t"
                " (t counts from 1)",
                {hat: late[hat]},
            )
        )
        out.append(
            Slip(
                f"the bias correction left out of the {which} moment only: {{{raw}}}_t used for {{{hat}}}_t ="
                f" {{{raw}}}_t/(1 − {b}^t); both moments are corrected",
                {hat: now(raw)},
            )
        )
        moment = g if raw == "m" else g**2
        out.append(
            Slip(
                f"{b} and 1 − {b} swapped: {{{raw}}}_t = (1 − {b})·{{{raw}}}_{{{{t−1}}}} + {b}·… weighs the new"
                f" gradient by {b}",
                {raw: (1 - beta) * prev(raw) + beta * moment},
            )
        )
    out += [
        Slip(
            "g_t for g_t² in the second moment: {v} averages squared gradients (elementwise g_t ⊙ g_t)",
            {"v": beta2 * prev("v") + (1 - beta2) * g},
        ),
        Slip(
            "(1 − β2) squared with the gradient: ((1 − β2)·g_t)² for (1 − β2)·g_t²",
            {"v": beta2 * prev("v") + ((1 - beta2) * g) ** 2},
        ),
        Slip(
            "g_t² in the first moment: {m} averages the gradients themselves, {v} their squares",
            {"m": beta1 * prev("m") + (1 - beta1) * g**2},
        ),
        Slip(
            "the correction of {v} outside the square root: √{v}_t/(1 − β2^t) for √({v}_t/(1 − β2^t))",
            {"delta": alpha * mhat / (sp.sqrt(v) / (1 - beta2**t) + eps)},
        ),
        Slip(
            "the bias-corrected and the raw moments mixed: {m}_t/(√{vhat}_t + ε) (a missing 1/(1 − β1^t))",
            {"delta": alpha * m / (sp.sqrt(vhat) + eps)},
        ),
        Slip(
            "not the form the module uses: this is Kingma and Ba's efficient form (their section 2), the"
            " corrections folded into the rate {alpha}_t = {alpha}·√(1 − β2^t)/(1 − β1^t) and ε added to √{v}_t;"
            " it is the module's rule with ε·√(1 − β2^t) for ε, so the two differ only where ε matters",
            {"delta": alpha * sp.sqrt(1 - beta2**t) / (1 - beta1**t) * m / (sp.sqrt(v) + eps)},
            variant=True,
        ),
        *_common_slips(mhat, "vhat", "where the gradients have been near 0"),
    ]
    return tuple(out)


ADAM = Rule(
    "adam",
    "Adam (Kingma and Ba, 2015, Algorithm 1: t counted from 1, ε outside the square root)",
    (
        ("m", beta1 * prev("m") + (1 - beta1) * g),
        ("v", beta2 * prev("v") + (1 - beta2) * g**2),
        ("mhat", now("m") / (1 - beta1**t)),
        ("vhat", now("v") / (1 - beta2**t)),
        ("delta", alpha * now("mhat") / (sp.sqrt(now("vhat")) + eps)),
        ("theta", theta_prev - delta),
    ),
    ("m", "v"),
    {
        "m": "{m}_t = β1·{m}_{{t−1}} + (1 − β1)·g_t",
        "v": "{v}_t = β2·{v}_{{t−1}} + (1 − β2)·g_t²",
        "mhat": "{mhat}_t = {m}_t/(1 − β1^t)",
        "vhat": "{vhat}_t = {v}_t/(1 − β2^t)",
        "delta": "{delta}_t = {alpha}·{mhat}_t/(√{vhat}_t + ε)",
        "theta": "{theta}_t = {theta}_{{t−1}} − {alpha}·{mhat}_t/(√{vhat}_t + ε)",
    },
    (
        Notation(
            "kingma",
            "Kingma and Ba's notation (also cs231n's): θ, m the first moment, v the second, α",
            {**COMMON, "theta": "theta", "w": "theta", "m": "m", "v": "v", "mhat": "mhat", "vhat": "vhat"}
            | {"beta1": "beta1", "beta2": "beta2"},
            {**COMMON_SHOWN, "theta": "θ", "m": "m", "v": "v", "mhat": "m̂", "vhat": "v̂", "beta1": "β1"}
            | {"beta2": "β2"},
            frozenset({"theta", "w", "m", "mhat"}),
        ),
        Notation(
            "d2l",
            "d2l's notation (§12.10): x, v the first moment, s the second, η, g′ the step",
            {**COMMON, "x": "theta", "v": "m", "s": "v", "vhat": "mhat", "shat": "vhat", "gprime": "delta"}
            | {"beta1": "beta1", "beta2": "beta2"},
            {**COMMON_SHOWN, "theta": "x", "m": "v", "v": "s", "mhat": "v̂", "vhat": "ŝ", "delta": "g′"}
            | {"alpha": "η", "beta1": "β1", "beta2": "β2"},
            frozenset({"x", "s", "shat", "gprime"}),
        ),
    ),
    _adam_slips(),
    defaults={"beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
    other_values={"beta2": ((0.99, "some courses' β2 = 0.99, an average over about 100 steps instead of 1000"),)},
)

RULES = {r.name: r for r in (SGD, MOMENTUM, ADAGRAD, RMSPROP, ADAM)}


def rule_of(name: str) -> Rule | None:
    return RULES.get(name)


# where each input is drawn for the numeric check: ε is small but not negligible, so that ε inside and
# outside the square root differ; β1 and β2 differ, so that one written for the other is seen
RANGES = {
    "theta_prev": (-2.0, 2.0),
    "g": (0.1, 2.0),  # and its sign drawn
    "m_prev": (-1.0, 1.0),
    "v_prev": (0.01, 1.0),
    "s_prev": (0.01, 1.0),
    "G_prev": (0.01, 2.0),
    "alpha": (0.01, 0.5),
    "beta1": (0.5, 0.95),
    "beta2": (0.6, 0.99),
    "mu": (0.5, 0.95),
    "rho": (0.5, 0.95),
    "eps": (0.01, 0.1),
}
STEPS = (1, 2, 3, 10, 1, 5, 100, 4)  # t at the test points in turn: the first step, early ones, a late one
