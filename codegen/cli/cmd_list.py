"""``chainrule list``: the built-in lecture networks, one line each (``--json`` for scripts).

The names and descriptions are read from the source of ``derive/catalogue`` (its ``NAMES`` and the
first line of each network's docstring), not imported: importing ``derive`` loads SymPy, most of the
command's time, and a listing needs none of it.  They are what ``derive.catalogue.names()`` and
``describe()`` give (tests/test_cli_conventions.py); a source that cannot be read that way is imported.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

from . import jsonout


def register(sub) -> None:
    p = sub.add_parser("list", help="list the built-in lecture networks")
    p.add_argument("--json", action="store_true", help="as JSON (keys: see docs/cli.md)")
    p.set_defaults(run=run)


def run(args) -> int:
    rows = catalogue_rows()
    if args.json:
        jsonout.dump(jsonout.catalogue(rows))
        return 0
    width = max(len(n) for n, _ in rows)
    for name, description in rows:
        print(f"{name:<{width}}  {description}")
    return 0


def catalogue_rows() -> list[tuple[str, str]]:
    """(name, description) of each catalogue network, in lecture order."""
    try:
        folder = Path(importlib.util.find_spec("derive").origin).parent / "catalogue"  # finds, does not import
        names = _literal(folder / "__init__.py", "NAMES")
        return [(name, _first_doc_line(folder / f"{name}.py")) for name in names]
    except (OSError, SyntaxError, ValueError, TypeError, IndexError, StopIteration):
        from derive.catalogue import describe, names

        return [(name, describe(name)) for name in names()]


def _literal(path: Path, variable: str):
    """The value of the module-level assignment ``variable = <literal>`` in the file ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == variable for t in node.targets)
    )


def _first_doc_line(path: Path) -> str:
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8")), clean=False)
    return (doc or "").strip().splitlines()[0]
