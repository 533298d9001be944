"""A network written in one of two conventions a topic is taught in, and the other (``with_convention``).

The GRU is taught two ways: PyTorch's ``nn.GRU`` and CMU 11-785 (HW3P1) apply the reset gate after
the hidden product, n = tanh(W_n x + b_n + r ⊙ (U_n h + b_hn)); d2l (§10.2) and Cho et al. (2014)
apply it to the state before it, n = tanh(W_n x + U_n (r ⊙ h) + b_n).  They are different
functions with different gradients.  A declaration says which one it is and how to build the other::

    with_convention(net, "PyTorch's and 11-785's", "n_t = tanh(W_n x_t + b_n + r_t ⊙ (U_n h_{t−1} + b_hn))",
                    other=lambda: gru_d2l.build())

``chainrule verify`` then names a formula of the other convention checked against this one, and the
handout shows where the two derivations differ.  ``names`` gives the course's own spellings of the network's
parameters, course by course (11-785's ``Wnh`` and PyTorch's ``W_hn`` for ``U_n``): ``chainrule verify`` reads a
claim in them, and the handout lists them.  A course that writes the network with row vectors (d2l: X_t W_xr, a
batch in rows) says so with ``ᵀ`` on each of its names, ``{"W_xr": "W_rᵀ", "X": "xᵀ"}``: a claim in its names is read
in its layout, every matrix the transpose of the network's (its names may then reuse the network's own: d2l's
update gate Z is the network's z).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import DeclarationError, caller_place

ROWS = "ᵀ"  # a course's name for the transpose of the network's: d2l's W_xr is W_rᵀ (its layout is in rows)


@dataclass(frozen=True)
class Convention:
    name: str  # whose convention this is: "PyTorch's and 11-785's"
    formula: str  # what sets it apart, as text
    other: Callable  # () -> the same network in the other convention (itself declared with its own)
    names: dict = field(default_factory=dict, compare=False)  # a course -> {its spelling: the network's name}

    def in_rows(self, course: str) -> bool:
        """Whether ``course`` writes the network with row vectors (its names stand for transposes: ``W_rᵀ``)."""
        return any(own.endswith(ROWS) for own in self.names.get(course, {}).values())


class Built:
    """The other convention's network, built already: what a spec's process carries back in place of the function
    that builds it (a function cannot leave the process).  Each call gives a copy, as the function would."""

    def __init__(self, network):
        self.network = network

    def __call__(self):
        import copy

        return copy.deepcopy(self.network)


def with_others_built(net):
    """``net``, or a shallow copy of it whose convention's ``other`` is a ``Built`` (and the other's points back at
    the copy): what a spec's process can carry.  ``net`` itself is left as it is."""
    import copy
    from dataclasses import replace

    conv = getattr(net, "convention", None)
    if conv is None or isinstance(conv.other, Built):
        return net
    other = conv.other()
    out = copy.copy(net)
    out.convention = replace(conv, other=Built(other))
    if getattr(other, "convention", None) is not None:
        other.convention = replace(other.convention, other=Built(out))
    return out


def with_convention(net, name: str, formula: str, *, other: Callable, names: dict | None = None):
    """``net`` with its convention (``net.convention``), a way to build the other one, and the courses' names of
    its parameters, course by course (``{"11-785 HW3P1": {"Wnh": "U_n", "brx": "b_r", "brh": "b_r"}}``: several
    spellings may stand for one parameter, as 11-785's two biases of a gate for this network's one; ``"W_rᵀ"``: the
    course writes the network in rows, its W_xr the transpose of W_r)."""
    where = caller_place()
    if not (isinstance(name, str) and name.strip() and isinstance(formula, str) and formula.strip()):
        raise DeclarationError("a convention has a name and a formula (text)", where)
    if not callable(other):
        raise DeclarationError("the other convention is given as a function that builds that network", where)
    names = {course: dict(spellings) for course, spellings in (names or {}).items()}
    for course, spellings in names.items():
        if len({str(own).endswith(ROWS) for own in spellings.values()}) > 1:
            raise DeclarationError(f"{course}'s names are all in rows (W_rᵀ) or none: a course has one layout", where)
        for spelled, own in spellings.items():
            if not (isinstance(spelled, str) and spelled.isidentifier()):
                raise DeclarationError(f"{course}'s name must be an identifier, not {spelled!r}", where)
            rows = isinstance(own, str) and own.endswith(ROWS)
            own = own.removesuffix(ROWS) if rows else own
            if own not in net.kinds:
                raise DeclarationError(
                    f"{course}'s name '{spelled}' stands for '{own}', which the network does not declare", where
                )
            if spelled in net.kinds and spelled != own and not rows:
                raise DeclarationError(f"{course}'s name '{spelled}' is already the network's own name", where)
    net.convention = Convention(name.strip(), formula.strip(), other, names)
    return net


def course_name(conv: Convention | None, name: str, course: str | None = None) -> tuple[str, str] | None:
    """(the network's name, the course) for a course's spelling (``Wnh``, ``W_nh``, ``W_{nh}`` as LaTeX reads it),
    or None; ``course``: that course's spelling only."""
    if conv is None:
        return None
    flat = name.replace("_", "")
    found = {
        (own.removesuffix(ROWS), each)
        for each, spellings in conv.names.items()
        for spelled, own in spellings.items()
        if spelled.replace("_", "") == flat and course in (None, each)
    }
    return min(found) if len({own for own, _ in found}) == 1 else None


def convention_of(net) -> Convention | None:
    return getattr(net, "convention", None)
