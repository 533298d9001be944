"""``python -m chainrule``: the same as the ``chainrule`` command."""

from codegen.cli import main

raise SystemExit(main())
