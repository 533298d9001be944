"""The update rule of a matrix program's handout for the optimiser asked for (``--optimizer``), as document blocks.

Each rule is stated for any parameter θ with g = dθ, the gradient of J, state initialised to 0.
Adam's section derives the bias correction from the geometric sum Σ_{i<t} β^i = (1 − β^t)/(1 − β)
and states the variants texts differ in (Kingma and Ba, 2015, Algorithm 1; d2l §12.10, which calls
the first moment v and the second s).  A program the generated module trains by Newton's method
says so and points to its second-order section.
"""

from __future__ import annotations

from .document import Display, Row, Text

RULES = {  # the state updates and the step: (lhs, op, rhs), op "←" or "="
    "momentum": [("v", r"\beta v + g"), ("\\theta", r"\theta - \alpha v")],
    "adagrad": [("G", "G + g^2"), ("\\theta", r"\theta - \frac{\alpha}{\sqrt{G} + \epsilon}\, g")],
    "rmsprop": [("s", r"\rho s + (1 - \rho) g^2"), ("\\theta", r"\theta - \frac{\alpha}{\sqrt{s} + \epsilon}\, g")],
    "adam": [
        ("m", r"\beta_1 m + (1 - \beta_1) g"),
        ("v", r"\beta_2 v + (1 - \beta_2) g^2"),
        (r"\hat{m}", r"\frac{m}{1 - \beta_1^t}"),
        (r"\hat{v}", r"\frac{v}{1 - \beta_2^t}"),
        ("\\theta", r"\theta - \frac{\alpha\, \hat{m}}{\sqrt{\hat{v}} + \epsilon}"),
    ],
}
LEADS = {
    "momentum": r"momentum $\beta$ (e.g.\ $0.9$): a decaying sum of past gradients",
    "adagrad": r"Adagrad: a per-parameter rate from the accumulated squared gradients",
    "rmsprop": r"RMSProp: the rate divided by a decaying average of squared gradients, decay $\rho$",
    "adam": r"Adam: decaying averages of gradients and squared gradients, step $t = 1, 2, \dots$",
}


def blocks(optimizer: str) -> list:
    """The rule of ``optimizer`` (not ``sgd``) for every parameter θ, and for Adam its derivation and variants."""
    rows = [Row(lhs, rhs, op="=" if lhs.startswith(r"\hat") else r"\leftarrow") for lhs, rhs in RULES[optimizer]]
    out = [
        Text(
            r"With $g = \mathrm{d}\theta$ for each parameter $\theta$ (the gradient of $J$ above, over a batch), state"
            rf" initialised to $0$ and learning rate $\alpha$ ({LEADS[optimizer]}):"
        ),
        Display(rows),
    ]
    if optimizer == "adam":
        out += _adam()
    return out


def _adam() -> list:
    return [
        Text(
            r"$m$ starts at $0$, so after $t$ steps $m_t = (1 - \beta_1) \sum_{i<t} \beta_1^i\, g_{t-i}$. If the"
            r" gradients are one value $g$, the sum is geometric,",
            lead=r"Why $1 - \beta^t$.",
        ),
        Display(
            [
                Row(r"\sum_{i<t} \beta_1^i", r"\frac{1 - \beta_1^t}{1 - \beta_1}"),
                Row("m_t", r"(1 - \beta_1) \cdot \frac{1 - \beta_1^t}{1 - \beta_1}\, g = (1 - \beta_1^t)\, g"),
            ]
        ),
        Text(
            r"biased towards $0$ by the factor $1 - \beta_1^t$ (at $t = 1$, $m_1 = 0.1\, g$ with $\beta_1 = 0.9$)."
            r" Dividing by it gives $\hat{m}_t = g$; the same with $\beta_2$ and $g^2$ gives $\hat{v}_t = g^2$. As $t$"
            r" grows $\beta^t \to 0$ and the correction fades."
        ),
        Text(
            r"This is Kingma and Ba's Algorithm 1 (2015), as PyTorch's \texttt{Adam} and the generated module compute"
            r" it: $t$ counted from $1$ (at $t = 0$ the correction would divide by $0$), $\epsilon$ outside the square"
            r" root, added to $\sqrt{\hat{v}}$, and $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\epsilon = 10^{-8}$. Other"
            r" texts put $\epsilon$ inside, $\sqrt{\hat{v} + \epsilon}$ (which changes the step where $\hat{v}$ is"
            r" near $\epsilon$), or fold both corrections into the rate,"
            r" $\alpha_t = \alpha \sqrt{1 - \beta_2^t}/(1 - \beta_1^t)$ with $\epsilon$ added to the uncorrected"
            r" $\sqrt{v}$ (the paper's own remark); some courses use $\beta_2 = 0.99$, an average over about $100$"
            r" steps instead of $1000$. d2l (\S12.10) writes the same rule with $v$ for the first moment and $s$ for"
            r" the second.",
            lead="Variants.",
        ),
    ]


def newton(lr: float) -> Text:
    """The sentence of a program its module trains by Newton's method, with step size ``lr``."""
    return Text(
        r"The generated module trains this program by Newton's method instead"
        r' (\texttt{optimizer="newton"}):'
        rf" $\theta \leftarrow \theta - \alpha H^{{-1}} \nabla J$ with $\alpha = {lr:g}$, the Hessian of the second-order"
        r" section solved for, never inverted."
    )
