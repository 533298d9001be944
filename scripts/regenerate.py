#!/usr/bin/env python3
"""Regenerate every golden file (generated/ modules, docs/ handouts) with one command.

    python3 scripts/regenerate.py [ROOT]

Each ``codegen/cli/cmd_*.py`` that owns golden files provides ``regenerate(root)``;
the golden-file tests call this into a temporary ROOT and compare bytes.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from codegen.cli.app import command_modules


def regenerate(root: Path) -> list[Path]:
    written: list[Path] = []
    for module in command_modules():
        if hasattr(module, "regenerate"):
            written.extend(module.regenerate(Path(root)))
    return written


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT
    for path in regenerate(target):
        print(path)
