"""Generated modules as Python modules: ``load_module(net)`` generates a network's training module and
runs it as a module (what a user gets from ``chainrule generate`` and ``import``), ``load_file(path)``
imports a module file (the goldens in generated/, a module just written).  Neither touches
``sys.modules``."""

from __future__ import annotations

import importlib.util
import os
import types
from pathlib import Path

from derive.unit.network import Network

from . import image_module, nlp_module
from .backends import NUMPY, Backend
from .numpy_layers import layers_context
from .numpy_module import module_text, scalar_context


def context_for(declaration, source: str, backend: Backend = NUMPY) -> dict:
    """The template context of a declaration: a per-unit ``Network``, a layer ``VecNetwork``, or one with a text
    task (``with_task``: the data section reads the shipped corpus) or an image task (``with_images``: the data
    section draws its images) — by what it declares, never by its name; for ``backend``'s module (NumPy's, or
    JAX's: ``codegen.emit.backends``)."""
    if isinstance(declaration, Network):
        return scalar_context(declaration, source, backend)
    if getattr(declaration, "text_task", None) is not None:
        return nlp_module.context_of(declaration, source, backend)
    if getattr(declaration, "image_task", None) is not None:
        return image_module.context_of(declaration, source, backend)
    return layers_context(declaration, source, backend)


def module_source(declaration, source: str | None = None, backend: Backend = NUMPY) -> str:
    """The training module of a per-unit ``Network`` or a layer ``VecNetwork``; ``source`` names it as
    ``chainrule generate`` was told (a catalogue name or a spec file; default the network's name).
    An NLP model (``declaration`` or ``source`` its name) gets the module with its data section."""
    source = source or (declaration if isinstance(declaration, str) else declaration.name)
    if source in nlp_module.MODULES:
        return nlp_module.module_text(source, backend)
    context = context_for(declaration, os.path.basename(source) if source.endswith(".py") else source, backend)
    return module_text(context, f"network '{context['name']}'")


def load_module(declaration, name: str | None = None, backend: Backend = NUMPY) -> types.ModuleType:
    """``declaration``'s generated training module, run as the module ``name`` (default: the network's
    name; its ``__file__`` is ``name.py`` in the working folder, where an NLP module looks for data)."""
    name = name or (declaration if isinstance(declaration, str) else declaration.name)
    module = types.ModuleType(name)
    module.__file__ = f"{name}.py"
    source = module_source(declaration, backend=backend)
    exec(compile(source, module.__file__, "exec"), module.__dict__)  # noqa: S102 (our own output)
    return module


def load_file(path, name: str | None = None) -> types.ModuleType:
    """The Python module in the file ``path``, imported as ``name`` (default: the file's stem)."""
    path = Path(path)
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
