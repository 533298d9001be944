"""Printers of the symbolic model: text, matrix text and LaTeX; each op record installs its forms."""
