"""JAX code for the same equations: the NumPy printers, reading jax.numpy where they write NumPy.

``JaxMatrixPrinter`` (layer programs) and ``JaxModulePrinter`` (per-unit networks) print what
``MatrixCodePrinter`` and ``ModulePrinter`` print: every activation, loss and op by its record's or its
stanza's form, written against NumPy's API, which jax.numpy follows; ``np.`` is read as ``jnp.``.  Where a
form does not run under jax.numpy (a helper that writes in place, or calls ``np.add.at``), its stanza carries a
JAX form of its own (``Op.jax_helpers``), installed in the helper table here.  As for NumPy, a module gets
exactly the helpers its printed code calls.
"""

from __future__ import annotations

import re

from derive import ChainruleError
from derive.ops import OPS

from .numpy_helpers import HELPERS as NUMPY_HELPERS
from .numpy_matrix import MatrixCodePrinter
from .numpy_printer import ModulePrinter

_NUMPY = re.compile(r"(?<![\w.])np\.")


def to_jax(code: str) -> str:
    """NumPy code as jax.numpy code: ``np.exp`` reads ``jnp.exp`` (``jnp.exp`` and ``x.np`` are left alone)."""
    return _NUMPY.sub("jnp.", code)


# NumPy's helpers read in jax.numpy, then the JAX forms of those that differ; a helper that writes in place
# under NumPy and has no JAX form (the convolution's col2im, for one) is refused by name, never printed
_IN_PLACE = re.compile(r"\]\s*[-+*/]?=(?!=)|np\.add\.at|\bout=")
HELPERS: dict[str, str] = {name: to_jax(source) for name, source in NUMPY_HELPERS.items()}
for _op in OPS.values():
    HELPERS.update(_op.jax_helpers)
NO_JAX_FORM = sorted(name for name, source in HELPERS.items() if _IN_PLACE.search(source))
for _name in NO_JAX_FORM:
    del HELPERS[_name]
_CALLS_NO_JAX_FORM = (
    re.compile(r"(?<![\w.])(" + "|".join(map(re.escape, NO_JAX_FORM)) + r")\(") if NO_JAX_FORM else None
)


def _refuse_in_place(code: str) -> str:
    found = _CALLS_NO_JAX_FORM.search(code) if _CALLS_NO_JAX_FORM else None
    if found:
        raise ChainruleError(
            f"the JAX backend has no form of {found.group(1)} yet (NumPy's writes in place); --backend numpy"
            " writes this program"
        )
    return code


class _JaxForms:
    """What the JAX printers change: the module they print is jax.numpy, their helpers JAX's."""

    helper_table = HELPERS

    def code(self, expr) -> str:
        return _refuse_in_place(to_jax(super().code(expr)))

    def doprint(self, expr, assign_to=None) -> str:
        return _refuse_in_place(to_jax(super().doprint(expr, assign_to)))

    def use(self, form: str) -> str:
        return _refuse_in_place(to_jax(super().use(form)))

    @property
    def imports(self) -> list[str]:
        return ["import jax", "import jax.numpy as jnp"]


class JaxMatrixPrinter(_JaxForms, MatrixCodePrinter):
    """A layer program's matrix expressions as jax.numpy (``codegen.render.numpy_matrix``'s, read as JAX)."""


class JaxModulePrinter(_JaxForms, ModulePrinter):
    """A per-unit network's expressions as jax.numpy (``codegen.render.numpy_printer``'s, read as JAX)."""
