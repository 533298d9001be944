"""Notebook handouts: valid nbformat 4.5, deterministic, and executed with nbclient: the module trains and
every hand-derived gradient agrees with finite differences."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from codegen.cli import main
from codegen.cli.cmd_handout import GOLDEN_DIR, NOTEBOOK_GOLDEN
from codegen.handout import notebook as handout_notebook
from derive.catalogue import load

ROOT = Path(__file__).resolve().parent.parent


def execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


@pytest.mark.parametrize("name", NOTEBOOK_GOLDEN)
def test_checked_in_notebook_runs_and_every_gradient_checks(name):
    nb = execute(ROOT / GOLDEN_DIR / "notebooks" / f"{name}.ipynb")
    kinds = [c.cell_type for c in nb.cells]
    assert kinds[0] == "markdown" and kinds.count("code") >= 10
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## 3. The backward pass" in text and r"\boxed{" in text and "All the gradients" in text
    codes = [c.source for c in nb.cells if c.cell_type == "code"]
    assert any(c.startswith("def gradients(") for c in codes) and any(c.startswith("def train(") for c in codes)
    check = stdout(nb.cells[-1])
    lines = [line for line in check.splitlines() if "| hand" in line]
    net = load(name)
    scalar_params = [line.split()[0] for line in lines]
    assert len(lines) >= len(getattr(net, "nodes", [])) and all("close: True" in line for line in lines)
    assert "maxdiff:" in lines[0] and "exact:" in lines[0]
    assert check.strip().endswith(f"{len(lines)} of {len(lines)} hand-derived gradients agree with finite differences")
    assert scalar_params  # one line per quantity
    training = next(
        stdout(c) for c in nb.cells if c.cell_type == "code" and "train(" in c.source and "def " not in c.source
    )
    assert "final loss" in training


def test_gradient_check_catches_a_wrong_hand_derivation(tmp_path):
    nb = json.loads(handout_notebook.render(load("computation_graph"), spec="computation_graph"))
    check = "".join(nb["cells"][-1]["source"])
    assert '"b": 2 * c,' in check
    nb["cells"] = [c for c in nb["cells"] if c["cell_type"] == "markdown"] + [nb["cells"][-1]]
    nb["cells"][-1]["source"] = check.replace('"b": 2 * c,', '"b": 3 * c,')  # a slip in ∂L/∂b
    path = tmp_path / "wrong.ipynb"
    path.write_text(json.dumps(nb))
    with pytest.raises(Exception, match="AssertionError"):
        execute(path)


def test_notebook_bytes_are_deterministic_and_cli(tmp_path, capsys):
    a = handout_notebook.render(load("computation_graph"), spec="computation_graph")
    assert a == handout_notebook.render(load("computation_graph"), spec="computation_graph")
    assert '"id": "cell-1"' in a
    out = tmp_path / "cg.ipynb"
    assert main(["handout", "computation_graph", "-o", str(out)]) == 0
    assert json.loads(out.read_text())["nbformat"] == 4
    out.write_text("my own notes")
    assert main(["handout", "computation_graph", "-o", str(out)]) == 2  # not chainrule's: refused
    assert "--force" in capsys.readouterr().err
    assert main(["handout", "computation_graph", "-o", str(out), "--force"]) == 0
