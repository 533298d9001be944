"""A network written in one of two conventions a topic is taught in, and the other (``with_convention``).

The GRU is taught two ways: PyTorch's ``nn.GRU`` and CMU 11-785 (HW3P1) apply the reset gate after
the hidden product, n = tanh(W_n x + b_n + r ⊙ (U_n h + b_hn)); d2l (§10.2) and Cho et al. (2014)
apply it to the state before it, n = tanh(W_n x + U_n (r ⊙ h) + b_n).  They are different
functions with different gradients.  A declaration says which one it is and how to build the other::

    with_convention(net, "PyTorch's and 11-785's", "n_t = tanh(W_n x_t + b_n + r_t ⊙ (U_n h_{t−1} + b_hn))",
                    other=lambda: gru_d2l.build())

``chainrule verify`` then names a formula of the other convention checked against this one, and the
handout shows where the two derivations differ.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from .errors import DeclarationError, caller_place


@dataclass(frozen=True)
class Convention:
    name: str  # whose convention this is: "PyTorch's and 11-785's"
    formula: str  # what sets it apart, as text
    other: Callable  # () -> the same network in the other convention (itself declared with its own)


def with_convention(net, name: str, formula: str, *, other: Callable):
    """``net`` with its convention (``net.convention``) and a way to build the other one."""
    where = caller_place()
    if not (isinstance(name, str) and name.strip() and isinstance(formula, str) and formula.strip()):
        raise DeclarationError("a convention has a name and a formula (text)", where)
    if not callable(other):
        raise DeclarationError("the other convention is given as a function that builds that network", where)
    net.convention = Convention(name.strip(), formula.strip(), other)
    return net


def convention_of(net) -> Convention | None:
    return getattr(net, "convention", None)
