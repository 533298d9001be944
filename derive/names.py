"""Which names a declaration may use.

A declared name becomes a variable in generated Python, a symbol in the LaTeX
and a key in JSON.  So it must be a Python identifier that is not a keyword, a
builtin, or a name the generated module uses for itself (NumPy as ``np``, the
activation helpers, ``params``, ``forward``, …); and two names must differ
after Unicode NFKC normalisation, because Python reads ``ｗ1`` as ``w1``.
"""

from __future__ import annotations

import builtins
import keyword
import unicodedata

from .errors import DeclarationError
from .ops import records

BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))

# what a generated module (codegen/templates) calls its own modules, helpers, functions and locals
GENERATED = frozenset(
    [
        "np",
        "numpy",
        "sp",
        "sympy",
        "math",
        "exp",
        "log",
        "logsumexp",
        "log_sigmoid",
        "params",
        "grads",
        "out",
        "ws",
        "workspace",
        "Workspace",
        "dtype",
        "self",
        "init_params",
        "forward",
        "loss",
        "gradients",
        "train",
        "update",
        "predict",
        "accuracy",
        "save",
        "load",
        "demo_data",
        "check_params",
        "check_data",
        "main",
        "PARAMS",
        "INPUTS",
        "TARGETS",
        "N_INPUTS",
        "N_TARGETS",
        "OPTIMIZERS",
        "TASK",
    ]
    # every activation's and loss's name and the helper functions their NumPy forms call (sigmoid, softmax, …)
    + [name for r in records() for name in (r.name, *r.helpers)]
)


def normal(name: str) -> str:
    """The name as Python reads it (NFKC, PEP 3131)."""
    return unicodedata.normalize("NFKC", name)


def why_not(name) -> str | None:
    """Why ``name`` cannot name a quantity (None when it can)."""
    if not isinstance(name, str) or not name.isidentifier():
        return "is not a valid name (a letter or _, then letters, digits or _)"
    plain = normal(name)
    if keyword.iskeyword(plain):
        return "is a Python keyword"
    if plain.startswith("__"):
        return "starts with __ (reserved by Python)"
    if plain in BUILTINS:
        return "is a Python builtin"
    if plain in GENERATED:
        return "is a name the generated module uses itself"
    return None


# train()'s own arguments in a generated module: a constant is a keyword argument beside them
TRAIN_ARGUMENTS = ("epochs", "lr", "batch_size", "optimizer", "seed", "params", "init", "log_every", "clip_norm")


def check_constant_names(name: str, constants, where: str | None) -> None:
    """A constant becomes a module constant in capitals (LAM) and a keyword argument of train(): refuse one
    that clashes with train's own arguments or, in capitals, with another constant (lam and Lam)."""
    if normal(name) in TRAIN_ARGUMENTS or normal(name).startswith("running_"):
        raise DeclarationError(
            f"constant '{name}' would clash with train()'s argument '{normal(name)}' in the generated module", where
        )
    for other in constants:
        if normal(other).upper() == normal(name).upper():
            raise DeclarationError(
                f"constants '{other}' and '{name}' are both {normal(name).upper()} in the generated module", where
            )


def pre_activation_name(name: str) -> str:
    """The lecture's name for the argument of ``name = g(…)`` a declaration left unnamed: A1 → Z1, a2 → z2,
    Yhat → Z, yhat → z, h → Z_h."""
    if len(name) > 1 and name[0] in "Aa" and (name[1:].isdigit() or name[1] == "_"):
        return ("Z" if name[0] == "A" else "z") + name[1:]
    if name.endswith("hat") and len(name) == 4 and name[0].isalpha():
        return "Z" if name[0].isupper() else "z"
    return f"Z_{name}"


def check_name(name, taken, where: str | None, reserved=()) -> None:
    """Raise unless ``name`` may name a new quantity beside the names in ``taken``."""
    reason = why_not(name)
    if reason is None and normal(name) in reserved:
        reason = "is reserved"
    if reason:
        raise DeclarationError(f"'{name}' {reason}", where)
    plain = normal(name)
    for other in taken:
        if other != name and normal(other) == plain:
            raise DeclarationError(f"'{name}' is the same name as '{other}' once Unicode-normalised (NFKC)", where)
