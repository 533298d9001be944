"""The two module backends of one derivation: NumPy (in place on a workspace) and JAX (functional, jit-compiled).

A backend names the printers that write its code (``codegen.render``: NumPy's, and the same read as jax.numpy)
and the templates that lay its module out; the emitters build one context from the derivation either way
(``numpy_module.scalar_context``, ``numpy_layers.layers_context``, ``numpy_recurrent.recurrent_parts``).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..render.jax_matrix import JaxMatrixPrinter, JaxModulePrinter
from ..render.numpy_matrix import MatrixCodePrinter
from ..render.numpy_printer import ModulePrinter


@dataclass(frozen=True)
class Backend:
    name: str  # as --backend names it
    matrix_printer: type  # a layer program's matrix expressions
    scalar_printer: type  # a per-unit network's expressions
    module_template: str  # the training module
    test_template: str  # its pytest file
    layers_template: str  # a layer network's equations
    recurrent_template: str  # a recurrence's forward loop and backpropagation through time
    inplace: bool  # gradients in place on preallocated buffers (NumPy), else functional (JAX: jit fuses them)
    needs: str  # what the module imports, for its docstring


NUMPY = Backend(
    "numpy",
    MatrixCodePrinter,
    ModulePrinter,
    "train_module.py.jinja",
    "test_module.py.jinja",
    "layers.py.jinja",
    "recurrent.py.jinja",
    inplace=True,
    needs="NumPy",
)
JAX = Backend(
    "jax",
    JaxMatrixPrinter,
    JaxModulePrinter,
    "train_module_jax.py.jinja",
    "test_module_jax.py.jinja",
    "layers_jax.py.jinja",
    "recurrent_jax.py.jinja",
    inplace=False,
    needs="JAX (pip install jax: it brings NumPy)",
)
BACKENDS = {b.name: b for b in (NUMPY, JAX)}
