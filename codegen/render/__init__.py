"""Printers: SymPy expressions as LaTeX and NumPy, the NumPy helpers, computation-graph layout (TikZ, SVG), equation numbering."""
