"""The per-example losses, one file each: a SymPy class and its record (``derive.ops.loss``).

Every module of this package is imported here, in name order.
"""

import importlib
import pkgutil

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__)):
    importlib.import_module(f"{__name__}.{_module}")
