"""generated/: every catalogue network's module and tests regenerate byte for byte, and pass."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from codegen.cli import cmd_generate

ROOT = Path(__file__).resolve().parent.parent


def test_generated_files_regenerate_byte_for_byte(tmp_path):
    written = cmd_generate.regenerate(tmp_path)
    assert written, "no golden files"
    for path in written:
        assert (ROOT / path.relative_to(tmp_path)).exists(), (
            f"{path.name} is missing: run python3 scripts/regenerate.py"
        )
        assert path.read_bytes() == (ROOT / path.relative_to(tmp_path)).read_bytes(), (
            f"{path.name} differs: run python3 scripts/regenerate.py"
        )


def test_every_catalogue_network_generates_or_says_why():
    for name, reason in cmd_generate.golden_names():
        if name in ("computation_graph",):
            assert reason and "cannot express" in reason
        else:
            assert reason is None, f"{name}: {reason}"


def test_generated_tests_run_in_the_suite():
    """Every golden module's generated tests run in the suite itself (pyproject's testpaths collects
    generated/), as ``pytest generated/`` runs them for a user: not again here, in a second pytest."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["pytest"]["ini_options"]
    assert "generated" in config["testpaths"]
    modules = {p.stem for p in (ROOT / "generated").glob("*.py") if not p.name.startswith("test_")}
    tests = {p.stem.removeprefix("test_") for p in (ROOT / "generated").glob("test_*.py")}
    assert modules == tests and len(modules) >= 20


@pytest.mark.parametrize("name", ["xor"])
def test_generated_xor_trains_to_full_accuracy(name):
    result = subprocess.run(
        [sys.executable, str(ROOT / "generated" / f"{name}.py")], capture_output=True, text=True, check=True
    )
    assert "accuracy 100%" in result.stdout.strip().splitlines()[-1]


def test_generated_code_is_ruff_clean_with_default_rules():
    """ruff's default rules, ignoring any project or user configuration (as a user's own ruff would run)."""
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", str(ROOT / "generated")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
