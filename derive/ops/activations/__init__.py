"""The activations, one file each: a SymPy class and its record (``derive.ops.activation``).

Every module of this package is imported here, in name order, so a new activation
is one new file: nothing else names it.
"""

import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
