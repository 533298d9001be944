"""chainrule: derive, explain and generate neural-network training code from one SymPy declaration.

The code lives in ``derive`` (the symbolic model) and ``codegen`` (printers, templates, the CLI).
This small package only gives the project's name to ``python -m chainrule`` and holds its version.
"""

__version__ = "0.1.0"
