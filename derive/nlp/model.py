"""Layer-level declarations of the NLP models: what goes in (features or word indices), the layers, the output.

    TextModel("embedding_classifier", inputs=Words(dim=16, length=24, pooling="mean"),
              hidden=(Dense(16, "tanh"),), classes=3, task="topic")

* ``Features(names)``: a vector of hand features per document (J&M's x1..x6);
* ``Words(dim, length, pooling)``: word indices into a vocabulary; the
  embedding matrix ``E`` (d×|V|) is a parameter; the ``length`` word vectors
  are pooled into one by ``mean`` or ``max`` (element-wise), or concatenated
  (``concat``: the fixed-length input, padded with zero vectors or truncated);
* ``Dense(size, activation)``: hidden layers, ``A = g(W A_prev + b)``;
* ``classes``: 1 gives ``ŷ = σ(z)`` with binary cross-entropy, K ≥ 2 (or
  ``"vocab"``, the vocabulary size) a softmax over K with cross-entropy.

Names follow deeplearning.ai course 1: ``X`` (one column per example), ``Z1 =
W1 X + b1``, ``A1 = g(Z1)``, …, ``ŷ = A_L``; ``J = (1/m) Σ L``.
``derive.nlp.equations`` derives the forward and backward equations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ChainruleError

POOLINGS = ("mean", "max", "concat")
ACTIVATIONS = ("sigmoid", "tanh", "relu")
TASKS = ("sentiment", "topic", "lm")


@dataclass(frozen=True)
class Features:
    """A hand-feature vector per document (one row of X per feature)."""

    names: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.names)


@dataclass(frozen=True)
class Words:
    """Word indices, looked up in the embedding matrix E (d×|V|) and pooled or concatenated."""

    dim: int
    length: int
    pooling: str = "mean"

    @property
    def size(self) -> int:
        return self.dim * self.length if self.pooling == "concat" else self.dim


@dataclass(frozen=True)
class Dense:
    size: int
    activation: str = "sigmoid"


@dataclass(frozen=True)
class TextModel:
    """One NLP model, declared layer by layer (see the module docstring)."""

    name: str
    inputs: Features | Words
    hidden: tuple[Dense, ...] = ()
    classes: int | str = 1
    task: str = "sentiment"
    doc: str = ""
    training: dict = field(default_factory=dict)  # epochs, lr, batch, seed: the generated module's defaults

    def __post_init__(self):
        where = f"model '{self.name}'"
        if isinstance(self.inputs, Words):
            if self.inputs.pooling not in POOLINGS:
                raise ChainruleError(
                    f"unknown pooling '{self.inputs.pooling}' (expected one of: {', '.join(POOLINGS)})", where
                )
            if self.inputs.dim < 1 or self.inputs.length < 1:
                raise ChainruleError("embedding dimension and length must be positive", where)
        elif not isinstance(self.inputs, Features):
            raise ChainruleError("inputs must be Features(...) or Words(...)", where)
        for layer in self.hidden:
            if layer.activation not in ACTIVATIONS:
                raise ChainruleError(
                    f"unknown activation '{layer.activation}' (expected one of: {', '.join(ACTIVATIONS)})", where
                )
            if layer.size < 1:
                raise ChainruleError("a layer needs at least one unit", where)
        if not (self.classes == "vocab" or (isinstance(self.classes, int) and self.classes >= 1)):
            raise ChainruleError(f"classes must be a positive number or 'vocab', not {self.classes!r}", where)
        if self.task not in TASKS:
            raise ChainruleError(f"unknown task '{self.task}' (expected one of: {', '.join(TASKS)})", where)

    @property
    def embedded(self) -> bool:
        return isinstance(self.inputs, Words)

    @property
    def binary(self) -> bool:
        return self.classes == 1

    @property
    def layers(self) -> int:
        """L: hidden layers plus the output layer."""
        return len(self.hidden) + 1

    def params(self) -> list[str]:
        names = ["E"] if self.embedded else []
        for layer in range(1, self.layers + 1):
            names += [f"W{layer}", f"b{layer}"]
        return names

    def sizes(self, vocab: int | None = None) -> list[int]:
        """n0 (the input X), n1, …, n_L (the output)."""
        out = self.classes if self.classes != "vocab" else vocab
        if out is None:
            raise ChainruleError(f"model '{self.name}' predicts over the vocabulary: give its size")
        return [self.inputs.size] + [layer.size for layer in self.hidden] + [out]

    def shapes(self, vocab: int | None = None) -> dict[str, tuple[int, int]]:
        """Parameter shapes for a vocabulary of ``vocab`` words."""
        n = self.sizes(vocab)
        shapes = {}
        if self.embedded:
            if vocab is None:
                raise ChainruleError(f"model '{self.name}' has an embedding matrix: give the vocabulary size")
            shapes["E"] = (self.inputs.dim, vocab)
        for layer in range(1, self.layers + 1):
            shapes[f"W{layer}"] = (n[layer], n[layer - 1])
            shapes[f"b{layer}"] = (n[layer], 1)
        return shapes

    def activation(self, layer: int) -> str:
        """g of layer ``layer`` (1-based); the output's is sigmoid or softmax."""
        if layer == self.layers:
            return "sigmoid" if self.binary else "softmax"
        return self.hidden[layer - 1].activation
