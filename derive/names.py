"""Which names a declaration may use.

A declared name becomes a variable in generated Python, a symbol in the LaTeX
and a key in JSON.  So it must be a Python identifier that is not a keyword, a
builtin, or a name the generated module uses for itself (NumPy as ``np``, the
activation helpers, ``params``, ``forward``, …); and two names must differ
after Unicode NFKC normalisation, because Python reads ``ｗ1`` as ``w1``.
"""

from __future__ import annotations

import builtins
import difflib
import keyword
import math
import unicodedata

from .errors import DeclarationError, check_title, shown
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
    H2 → Z2 (a layer's number is kept), Yhat → Z, yhat → z, h → Z_h."""
    if len(name) > 1 and name[0] in "Aa" and (name[1:].isdigit() or name[1] == "_"):
        return ("Z" if name[0] == "A" else "z") + name[1:]
    if len(name) > 1 and name[0].isalpha() and name[0] not in "Zz" and name[1:].isdigit():
        return ("Z" if name[0].isupper() else "z") + name[1:]
    if name.endswith("hat") and len(name) == 4 and name[0].isalpha():
        return "Z" if name[0].isupper() else "z"
    return f"Z_{name}"


def check_name(name, taken, where: str | None, reserved=()) -> None:
    """Raise unless ``name`` may name a new quantity beside the names in ``taken``."""
    reason = why_not(name)
    if reason is None and normal(name) in reserved:
        reason = "is reserved"
    if reason:
        raise DeclarationError(f"{shown(name)} {reason}", where)
    plain = normal(name)
    ascii_name = name.isascii()  # NFKC leaves ASCII as it is: only a name outside ASCII can read as it
    for other in taken:
        if other != name and not (ascii_name and other.isascii()) and normal(other) == plain:
            raise DeclarationError(
                f"{shown(name)} is the same name as {shown(other)} once Unicode-normalised (NFKC)", where
            )


def declared_names(net) -> list[str]:
    """Every name a network declares: its quantities, and a layer network's dimensions."""
    dims = [s.name for s in getattr(net, "dim_sizes", {})]
    return list(net.kinds) + dims


def check_declared(net) -> None:
    """Check a network as it is handed over (its attributes may have been changed after each line was
    checked): its name and doc, every declared name, and its examples' titles and values."""
    place = f"network {shown(net.name)}" if isinstance(getattr(net, "name", None), str) else None
    check_title(net.name, net.doc, place)
    seen: dict[str, str] = {}  # normal form -> name
    reserved = ("m", "J") if hasattr(net, "dim_sizes") else ()
    for name in declared_names(net):
        reason = why_not(name)
        if reason:
            raise DeclarationError(f"{shown(name)} {reason}", place)
        if name in reserved or normal(name) in seen:
            raise DeclarationError(
                f"{shown(name)} is defined twice (or is a reserved name, or the same once Unicode-normalised)", place
            )
        seen[normal(name)] = name
    for title, point in getattr(net, "examples", {}).items():
        check_example_values(net, title, point)


def check_example_values(net, title, point) -> None:
    """An example has a one-line title and is a dict of finite numbers by name."""
    if not (isinstance(title, str) and title.strip() and title.isprintable() and len(title) <= 200):
        raise DeclarationError(
            f"an example's title must be one line of printable text, got {title!r:.60}", f"network {shown(net.name)}"
        )
    place = f"network {shown(net.name)}, example {shown(title)}"
    if not isinstance(point, dict):
        raise DeclarationError(f"an example is a dict of values, not {type(point).__name__}", place)
    for key, value in point.items():
        if not isinstance(key, str):
            raise DeclarationError(f"an example's names are strings, not {key!r:.40}", place)
        try:
            number = float(value)
        except (TypeError, ValueError, OverflowError):
            number = math.nan
        if isinstance(value, bool) or not math.isfinite(number):
            raise DeclarationError(f"the value of {shown(key)} must be a finite number, got {value!r:.40}", place)


def did_you_mean(word: str, options) -> str:
    """`` (did you mean 'W11' or 'w1'?)`` for a mistyped name: the options equal to it but for case, then the
    close ones (difflib), then those with a close part between underscores (``mpl`` → ``l1_mlp``); ''
    when none is close."""
    options = list(dict.fromkeys(options))
    if not isinstance(word, str) or not options:
        return ""
    found = [o for o in options if o.lower() == word.lower() and o != word]
    found += difflib.get_close_matches(word, options, n=3, cutoff=0.6)
    if not found:
        parts = {part: o for o in options for part in o.split("_") if len(part) > 1}
        close = difflib.get_close_matches(word, list(parts), n=1, cutoff=0.6)
        found = [o for o in options if close and close[0] in o.split("_")]
    found = list(dict.fromkeys(found))[:4]
    if not found:
        return ""
    quoted = [f"'{o}'" for o in found]
    return f" (did you mean {', '.join(quoted[:-1]) + ' or ' if len(quoted) > 1 else ''}{quoted[-1]}?)"
