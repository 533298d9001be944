"""Forward and backward equations of a ``TextModel``, with the embedding, pooling and scatter-add kinds.

Each equation is an ``Equation(number, target, kind, operands, function,
shape, expr, text)`` (the vectorised derivation's fields) plus its LaTeX and
its NumPy statement; everything about one kind of equation is one line of the
``KINDS`` table (text, LaTeX, NumPy), as the function rules are one line of
``derive.functions.RULES``.  Conventions (deeplearning.ai course 1): one column per example;
``dQ`` is the per-example gradient ∂L/∂Q stacked in columns, so a parameter's
``dW = (1/m) dZ A_prevᵀ`` is the gradient of ``J = (1/m) Σ L``.

The new kinds (J&M ch. 7: embeddings as input, the feedforward language model):

* ``embed``: ``e_t = E[:, w_t]`` (= E·onehot(w_t)); padding positions give 0;
* ``pool_mean`` / ``pool_max`` / ``concat``: one vector x per text;
* ``pool_mean_grad`` / ``pool_max_grad`` / ``concat_grad``: dx back to each
  position; max pooling routes each coordinate's gradient to its arg-max;
* ``embed_grad``: ``dE[:, v] = (1/m) Σ_{t,k: w_{t,k}=v} de_{t,k}``, a
  scatter-add: only the columns of words seen in the batch are non-zero, and
  the update touches only those columns (``np.add.at``), never a d×|V| product.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..functions import RULES, Step
from .model import TextModel


@dataclass(frozen=True)
class Equation:
    number: str  # F1, F2, … forward; B1, B2, … backward
    target: str
    kind: str
    operands: tuple[str, ...]
    function: str  # activation or loss name, "" if none
    shape: str  # as text: "d×n×m"
    expr: object  # no SymPy matrix form for the new kinds: None
    text: str
    latex: str
    numpy: tuple[str, ...]  # statements, in the generated module's names

    def __str__(self) -> str:
        return f"({self.number}) {self.text}    [{self.shape}]"


@dataclass(frozen=True)
class Kind:
    text: str
    latex: str
    numpy: tuple[str, ...]


FIELD = re.compile(r"\{(l|p|p_tex|pT_tex|g|g_tex|g_np|gp|gp_tex|gp_np)\}")

# One line per kind.  Fields: {l} layer, {p} previous activation (X or A1…), {dp} its adjoint,
# {g} activation, {gp}/{gp_tex}/{gp_np} g' written in the layer's output, {pool} X's size.
KINDS: dict[str, Kind] = {
    # ---------------------------------------------------------- forward
    "embed": Kind(
        "e_t = E[:, w_t] for t = 1..n (0 at padding)",
        r"e_t = E_{:,w_t} = E\,\mathrm{onehot}(w_t)",
        ("Emb = E[:, ids] * mask",),
    ),
    "pool_mean": Kind(
        "X = (1/n) Σ_t e_t (mean over the words present)",
        r"X = \frac{1}{n}\sum_{t=1}^{n} e_t",
        ("X = Emb.sum(axis=1) / lengths",),
    ),
    "pool_max": Kind(
        "X_i = max_t e_{t,i} (element-wise max over the words present)",
        r"X_i = \max_t e_{t,i}",
        (
            "arg = np.where(mask > 0, Emb, -np.inf).argmax(axis=1)",
            "X = np.take_along_axis(Emb, arg[:, None, :], axis=1)[:, 0, :]",
        ),
    ),
    "concat": Kind(
        "X = [e_1; e_2; …; e_n] (padded with zero vectors / truncated to n)",
        r"X = \left[e_1; e_2; \dots; e_n\right]",
        ("X = Emb.transpose(1, 0, 2).reshape(-1, Emb.shape[2])",),
    ),
    "linear": Kind(
        "Z{l} = W{l} {p} + b{l}", r"Z^{[{l}]} = W^{[{l}]} {p_tex} + b^{[{l}]}", ("Z{l} = W{l} @ {p} + b{l}",)
    ),
    "activation": Kind("A{l} = {g}(Z{l})", r"A^{[{l}]} = {g_tex}(Z^{[{l}]})", ("A{l} = {g_np}(Z{l})",)),
    "loss_bce": Kind(
        "J = (1/m) Σ_k L_CE(ŷ_k, y_k),  L_CE(ŷ, y) = −[y log ŷ + (1 − y) log(1 − ŷ)]",
        r"J = \frac{1}{m}\sum_{k=1}^{m} -\left[y_k\log\hat y_k + (1-y_k)\log(1-\hat y_k)\right]",
        ("J = float(np.mean(np.logaddexp(0, Z{l}) - Y * Z{l}))",),
    ),
    "loss_ce": Kind(
        "J = (1/m) Σ_k −log ŷ_{y_k,k}  (cross-entropy, y one-hot)",
        r"J = \frac{1}{m}\sum_{k=1}^{m} -\log \hat y_{y_k,k}",
        ("J = float(-np.mean(log_softmax(Z{l})[y, np.arange(y.size)]))",),
    ),
    # --------------------------------------------------------- backward
    "output_grad": Kind(
        "dZ{l} = A{l} − Y  (σ'/softmax' and the cross-entropy's −y/ŷ cancel)",
        r"dZ^{[{l}]} = A^{[{l}]} - Y",
        ("dZ{l} = A{l} - Y",),
    ),
    "output_grad_ids": Kind(
        "dZ{l} = A{l} − Y  (Y one-hot: subtract 1 at each example's class y)",
        r"dZ^{[{l}]} = A^{[{l}]} - Y",
        ("dZ{l} = A{l}.copy()", "dZ{l}[y, np.arange(y.size)] -= 1.0"),
    ),
    "weight_grad": Kind(
        "dW{l} = (1/m) dZ{l} {p}ᵀ", r"dW^{[{l}]} = \frac{1}{m}\, dZ^{[{l}]} {pT_tex}", ("dW{l} = dZ{l} @ {p}.T / m",)
    ),
    "bias_grad": Kind(
        "db{l} = (1/m) Σ_columns dZ{l}",
        r"db^{[{l}]} = \frac{1}{m} \sum_{\text{columns}} dZ^{[{l}]}",
        ("db{l} = dZ{l}.sum(axis=1, keepdims=True) / m",),
    ),
    "input_grad": Kind("d{p} = W{l}ᵀ dZ{l}", r"d{p_tex} = W^{[{l}]\top} dZ^{[{l}]}", ("d{p} = W{l}.T @ dZ{l}",)),
    "activation_grad": Kind(
        "dZ{l} = dA{l} ⊙ {gp}", r"dZ^{[{l}]} = dA^{[{l}]} \odot {gp_tex}", ("dZ{l} = dA{l} * {gp_np}",)
    ),
    "pool_mean_grad": Kind(
        "de_t = dX / n for each word present (0 at padding)",
        r"de_t = \frac{1}{n}\, dX",
        ("dEmb = dX[:, None, :] * (mask / lengths)",),
    ),
    "pool_max_grad": Kind(
        "de_{t,i} = dX_i if t = argmax_t e_{t,i}, else 0 (routed to the arg-max)",
        r"de_{t,i} = dX_i\,[t = \arg\max\nolimits_{t'} e_{t',i}]",
        (
            "dEmb = np.zeros_like(Emb)",
            "np.put_along_axis(dEmb, arg[:, None, :], dX[:, None, :], axis=1)",
            "dEmb *= mask  # a text with no words: nothing to route",
        ),
    ),
    "concat_grad": Kind(
        "de_t = rows (t−1)d+1 … td of dX (0 at padding)",
        r"de_t = dX_{(t-1)d+1:td}",
        ("dEmb = dX.reshape(-1, Emb.shape[0], dX.shape[1]).transpose(1, 0, 2) * mask",),
    ),
    "embed_grad": Kind(
        "dE[:, v] = (1/m) Σ_{t,k: w_{t,k} = v} de_{t,k}  (scatter-add; 0 for words not in the batch)",
        r"dE_{:,v} = \frac{1}{m}\sum_{t,k\,:\,w_{t,k}=v} de_{t,k}",
        ("dE = (ids.ravel(), dEmb.reshape(dEmb.shape[0], -1) / m)",),
    ),
}

INDICATOR = RULES[Step].latex  # the step function's LaTeX name (amssymb has no blackboard-bold 1)

# Activations: the forward form and g' written in the layer's own output where the lecture does.
GPRIME = {
    "sigmoid": (
        "σ",
        r"\sigma",
        "sigmoid",
        "A{l} ⊙ (1 − A{l})",
        r"A^{[{l}]} \odot (1 - A^{[{l}]})",
        "A{l} * (1 - A{l})",
    ),
    "tanh": ("tanh", r"\tanh", "np.tanh", "(1 − A{l}²)", r"(1 - A^{[{l}]} \odot A^{[{l}]})", "(1 - A{l} ** 2)"),
    "relu": ("ReLU", r"\operatorname{ReLU}", "relu", "1[Z{l} ≥ 0]", INDICATOR + r"[Z^{[{l}]} \ge 0]", "(Z{l} >= 0)"),
    "softmax": ("softmax", r"\operatorname{softmax}", "softmax", "", "", ""),
}


def _tex(name: str) -> str:
    return name if not name.startswith("A") or name == "A" else f"A^{{[{name[1:]}]}}"


def _shape(name: str, model: TextModel) -> str:
    sizes = ["n0"] + [f"n{i}" for i in range(1, model.layers + 1)]
    if name in ("Emb", "dEmb"):
        return "d×n×m"
    if name in ("X", "dX"):
        return ("(n·d)×m" if model.inputs.pooling == "concat" else "d×m") if model.embedded else "n0×m"
    if name == "dE":
        return "d×|V| (sparse: columns of the batch's words)"
    if name == "J":
        return "1×1"
    base = name.lstrip("d")
    layer = int(base[1:])
    if base[0] == "W":
        return f"{sizes[layer]}×{sizes[layer - 1]}"
    if base[0] == "b":
        return f"{sizes[layer]}×1"
    return f"{sizes[layer]}×m"


def fill(template: str, fields: dict) -> str:
    """Replace ``{name}`` for the given names only (LaTeX groups such as ``{m}`` stay)."""
    return FIELD.sub(lambda m: str(fields[m.group(1)]) if m.group(1) in fields else m.group(0), template)


def _eq(model, number, target, kind, operands, function="", **fields) -> Equation:
    spec = KINDS[kind]
    fmt = dict(fields)
    if function in GPRIME:
        g, g_tex, g_np, gp, gp_tex, gp_np = GPRIME[function]
        fmt.update(g=g, g_tex=g_tex, g_np=g_np, gp=fill(gp, fmt), gp_tex=fill(gp_tex, fmt), gp_np=fill(gp_np, fmt))
    fmt.setdefault("p", "X")
    fmt.setdefault("p_tex", _tex(fmt["p"]))
    fmt.setdefault("pT_tex", r"X^{\top}" if fmt["p"] == "X" else rf"A^{{[{fmt['p'][1:]}]\top}}")
    return Equation(
        number,
        target,
        kind,
        tuple(operands),
        function,
        _shape(target, model),
        None,
        fill(spec.text, fmt),
        fill(spec.latex, fmt),
        tuple(fill(line, fmt) for line in spec.numpy),
    )


def forward(model: TextModel) -> list[Equation]:
    """The forward pass, input to cost."""
    eqs: list[Equation] = []
    number = iter(range(1, 100))
    if model.embedded:
        pooling = model.inputs.pooling
        eqs.append(_eq(model, f"F{next(number)}", "Emb", "embed", ("E", "ids", "mask")))
        kind = {"mean": "pool_mean", "max": "pool_max", "concat": "concat"}[pooling]
        eqs.append(_eq(model, f"F{next(number)}", "X", kind, ("Emb",)))
    prev = "X"
    for layer in range(1, model.layers + 1):
        g = model.activation(layer)
        eqs.append(
            _eq(model, f"F{next(number)}", f"Z{layer}", "linear", (f"W{layer}", prev, f"b{layer}"), l=layer, p=prev)
        )
        eqs.append(_eq(model, f"F{next(number)}", f"A{layer}", "activation", (f"Z{layer}",), g, l=layer))
        prev = f"A{layer}"
    L = model.layers
    loss = "loss_bce" if model.binary else "loss_ce"
    eqs.append(
        _eq(
            model,
            f"F{next(number)}",
            "J",
            loss,
            (f"A{L}", "Y"),
            "binary_cross_entropy" if model.binary else "cross_entropy",
            l=L,
        )
    )
    return eqs


def backward(model: TextModel) -> list[Equation]:
    """The backward pass, cost to every parameter (E last: a sparse scatter-add)."""
    eqs: list[Equation] = []
    number = iter(range(1, 100))
    L = model.layers
    kind = "output_grad" if model.binary else "output_grad_ids"
    eqs.append(_eq(model, f"B{next(number)}", f"dZ{L}", kind, (f"A{L}", "Y"), l=L))
    for layer in range(L, 0, -1):
        prev = f"A{layer - 1}" if layer > 1 else "X"
        eqs.append(_eq(model, f"B{next(number)}", f"dW{layer}", "weight_grad", (f"dZ{layer}", prev), l=layer, p=prev))
        eqs.append(_eq(model, f"B{next(number)}", f"db{layer}", "bias_grad", (f"dZ{layer}",), l=layer))
        if layer > 1 or model.embedded:
            eqs.append(
                _eq(model, f"B{next(number)}", f"d{prev}", "input_grad", (f"W{layer}", f"dZ{layer}"), l=layer, p=prev)
            )
        if layer > 1:
            g = model.activation(layer - 1)
            eqs.append(
                _eq(model, f"B{next(number)}", f"dZ{layer - 1}", "activation_grad", (f"dA{layer - 1}",), g, l=layer - 1)
            )
    if model.embedded:
        pooling = model.inputs.pooling
        kind = {"mean": "pool_mean_grad", "max": "pool_max_grad", "concat": "concat_grad"}[pooling]
        operands = {"mean": ("dX", "mask"), "max": ("dX", "Emb", "arg"), "concat": ("dX", "Emb", "mask")}[pooling]
        eqs.append(_eq(model, f"B{next(number)}", "dEmb", kind, operands))
        eqs.append(_eq(model, f"B{next(number)}", "dE", "embed_grad", ("dEmb", "ids")))
    return eqs


# ------------------------------------------------ how the gradient reaches E
@dataclass(frozen=True)
class EmbeddingStep:
    """One step of ∂J/∂E, in words and in LaTeX (kind: lookup | local | pooling | chain | batch)."""

    kind: str
    text: str
    latex: str

    def __str__(self) -> str:
        return self.text


# One line per step; the pooling step depends on the pooling.
STEPS: dict[str, EmbeddingStep] = {
    "lookup": EmbeddingStep(
        "lookup",
        "lookup: e_t = E[:, w_t] = E·onehot(w_t), so e_t depends on column w_t of E and on no other",
        r"lookup: $e_t = E_{:,w_t} = E\,\mathrm{onehot}(w_t)$, so $e_t$ depends on column $w_t$ of $E$ and on no other.",
    ),
    "local": EmbeddingStep(
        "local",
        "local partial: ∂e_{t,i}/∂E_{j,v} = 1 if j = i and v = w_t, else 0",
        r"local partial: $\partial e_{t,i}/\partial E_{j,v} = 1$ if $j = i$ and $v = w_t$, else $0$.",
    ),
    "mean": EmbeddingStep(
        "pooling",
        "mean pooling: X = (1/n) Σ_t e_t, so ∂X/∂e_t = (1/n)·I and every word present gets de_t = dX/n",
        r"mean pooling: $X = \frac{1}{n}\sum_t e_t$, so $\partial X/\partial e_t = \frac{1}{n} I$: every word present "
        r"gets $de_t = dX/n$.",
    ),
    "max": EmbeddingStep(
        "pooling",
        "max pooling: X_i = e_{t*,i} with t* = argmax_t e_{t,i}, so ∂X_i/∂e_{t,i} = 1 for t = t* and 0 otherwise: "
        "each coordinate's gradient is routed to its arg-max position only",
        r"max pooling: $X_i = e_{t^*,i}$ with $t^* = \arg\max_t e_{t,i}$, so $\partial X_i/\partial e_{t,i} = 1$ for "
        r"$t = t^*$ and $0$ otherwise: each coordinate's gradient is routed to its arg-max position only.",
    ),
    "concat": EmbeddingStep(
        "pooling",
        "concatenation: X = [e_1; …; e_n], so de_t is the t-th block of d rows of dX; padding positions "
        "hold the zero vector, not a column of E, and pass no gradient",
        r"concatenation: $X = [e_1; \dots; e_n]$, so $de_t$ is the $t$-th block of $d$ rows of $dX$; padding "
        r"positions hold the zero vector, not a column of $E$, and pass no gradient.",
    ),
    "chain": EmbeddingStep(
        "chain",
        "chain rule: ∂L/∂E[:, v] = Σ_{t: w_t = v} ∂L/∂e_t; a word seen twice adds up, a word not in the text gets 0",
        r"chain rule: $\partial L/\partial E_{:,v} = \sum_{t:\,w_t = v} \partial L/\partial e_t$; a word seen twice "
        r"adds up, a word not in the text gets $0$.",
    ),
    "batch": EmbeddingStep(
        "batch",
        "batch: dE[:, v] = (1/m) Σ_k Σ_{t: w_{t,k} = v} de_{t,k}; only the columns of the words in the batch are "
        "non-zero, so the update is a scatter-add into those columns (np.add.at): O(n·m·d) work, never a d×|V| product",
        r"batch: $dE_{:,v} = \frac{1}{m}\sum_k \sum_{t:\,w_{t,k} = v} de_{t,k}$; only the columns of the words in "
        r"the batch are non-zero, so the update is a scatter-add into those columns (\texttt{np.add.at}): "
        r"$O(n\,m\,d)$ work, never a $d\times|V|$ product.",
    ),
}


def embedding_steps(model: TextModel) -> list[EmbeddingStep]:
    """How the gradient reaches E, step by step (empty for a features model)."""
    if not model.embedded:
        return []
    return [STEPS[k] for k in ("lookup", "local", model.inputs.pooling, "chain", "batch")]
