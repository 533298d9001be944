"""Notebook handouts: valid nbformat 4.5, deterministic, and executed with nbclient: the module trains and
every hand-derived gradient agrees with finite differences.

Every catalogue network's notebook runs (rendered once per session, ``handout_media``), one kernel for all of
them with its namespace reset before each, as a fresh kernel would leave it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import handout_media
import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from codegen.cli import main
from codegen.handout import notebook as handout_notebook
from derive.catalogue import load, names


def execute(path: Path) -> nbformat.NotebookNode:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


@pytest.fixture(scope="module")
def executed(tmp_path_factory) -> dict[str, nbformat.NotebookNode]:
    """Every catalogue network's notebook, executed: one kernel, its namespace reset before each notebook."""
    folder = tmp_path_factory.mktemp("notebooks")
    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(folder))
    out = {}
    try:
        for name in names():
            nb = nbformat.reads(handout_media.notebook(name), as_version=4)
            nbformat.validate(nb)
            nb.cells.insert(0, nbformat.v4.new_code_cell("%reset -f"))
            NotebookClient(nb, km=km, timeout=600, resources={"metadata": {"path": str(folder)}}).execute()
            out[name] = nb
    finally:
        km.shutdown_kernel(now=True)
    return out


@pytest.mark.parametrize("name", names())
def test_every_notebook_runs_and_every_gradient_checks(executed, name):
    nb = executed[name]
    assert nb.cells[1].cell_type == "markdown"
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    codes = [c.source for c in nb.cells if c.cell_type == "code"]
    if "does not cover this network" not in text:  # the module, one definition per cell
        assert any(c.startswith("def gradients(") for c in codes) and any(c.startswith("def train(") for c in codes)
    check = stdout(nb.cells[-1])
    lines = [line for line in check.splitlines() if "| hand" in line]
    assert lines and all("close: True" in line for line in lines)
    if handout_media.matrix(name):  # the handout's sections, in order, its graphs as SVG attachments
        sections = re.findall(r"\\section\{([^{}]*)\}", handout_media.tex(name))
        heads = re.findall(r"^## (\d+)\. (.*)$", text, re.MULTILINE)[: len(sections)]
        assert [title for _, title in heads] == [t.replace("\\", "") for t in sections]
        svgs = [a for c in nb.cells for a in c.get("attachments", {}).values() if "image/svg+xml" in a]
        assert len(svgs) == 1 + (load(name).recurrence is not None)
        assert re.search(r"(\d+) of \1 entries of the derived gradients agree", check), check[-300:]
        return
    assert "## 3. The backward pass" in text and r"\boxed{" in text and "All the gradients" in text
    assert len(lines) >= len(load(name).nodes) and "maxdiff:" in lines[0] and "exact:" in lines[0]
    assert check.strip().endswith(f"{len(lines)} of {len(lines)} hand-derived gradients agree with finite differences")
    training = [
        stdout(c) for c in nb.cells if c.cell_type == "code" and "train(" in c.source and "def " not in c.source
    ]
    if "does not cover this network" not in text and "python3" not in text:  # (main(): trains from a shell)
        assert any("final loss" in t for t in training)


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
