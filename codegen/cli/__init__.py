"""The ``chainrule`` command: argument parsing and ``main`` (``app.py``), one module per subcommand
(``cmd_*.py``), JSON and status output."""

from .app import main

__all__ = ["main"]
