"""How a network's generated module trains on its demo data, as the declaration says (``with_training``).

The defaults suit most small networks (Adam, 300 epochs, 128 examples labelled by
a teacher); a declaration that needs others says so, so a copy of it under any
name trains the same way:

    with_training(net, epochs=1000, lr=0.1, optimizer="sgd", seed=1)   # XOR: both ReLU units find a side
    with_training(net, reconstruct=True)                               # an autoencoder: Y = X
    with_training(net, optimizer="newton", lr=1.0, sampled=True)      # Newton's method, overlapping classes
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from .errors import DeclarationError, caller_place

OPTIMIZERS = ("sgd", "momentum", "adagrad", "rmsprop", "adam")
SECOND_ORDER = ("newton",)  # needs the Hessian as a matrix: every parameter a row or a number (derive.ir.hessian)


@dataclass(frozen=True)
class Training:
    epochs: int = 300
    lr: float = 0.05
    optimizer: str = "adam"
    batch_size: int | None = None
    seed: int = 0
    m: int = 128  # demo examples
    reconstruct: bool = False  # the target is the input (Y = X): demo_data draws one-hot patterns
    sampled: bool = False  # labels drawn from the teacher's probabilities (not ŷ ≥ 0.5): the classes overlap

    def settings(self) -> dict:
        return asdict(self)


def with_training(net, **settings):
    """``net`` with its demo training settings (``net.training``); an unknown or ill-typed setting is a
    ``DeclarationError`` naming it."""
    where = caller_place()
    known = {f.name: f for f in fields(Training)}
    for key, value in settings.items():
        if key not in known:
            raise DeclarationError(f"unknown training setting '{key}' (known: {', '.join(known)})", where)
        if key == "optimizer" and value not in OPTIMIZERS + SECOND_ORDER:
            choices = ", ".join(OPTIMIZERS + SECOND_ORDER)
            raise DeclarationError(f"unknown optimizer {value!r} (expected one of: {choices})", where)
        if key in ("epochs", "m", "seed") and not (
            isinstance(value, int) and not isinstance(value, bool) and value >= 0
        ):
            raise DeclarationError(f"training setting '{key}' must be a whole number, got {value!r}", where)
        if key == "lr" and not (isinstance(value, (int, float)) and value > 0):
            raise DeclarationError(f"training setting 'lr' must be a positive number, got {value!r}", where)
    net.training = Training(**settings)
    return net


def training_of(net) -> Training:
    return getattr(net, "training", None) or Training()
