"""Jupyter: networks, derivations, steps, layer equations and verdicts display as math.

A notebook is executed in a real kernel with nbclient (test extras), and each
output's MIME types are checked; the tutorial in docs/ runs without an error.
"""

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parent.parent

SETUP = """
from derive import mlp
from derive.catalogue import load
from derive.verify.vec_target import VecTarget
from derive.verify.vectorised import verify_vector
net = load("two_layer_sigmoid")
d = net.derive()
vd = mlp("n", sizes=[2, 4, 1], hidden="tanh", output="sigmoid", loss="binary_cross_entropy").derive()
"""

# (cell, the MIME type its result must offer)
CELLS = [
    ("net", "text/latex"),
    ("d", "text/latex"),
    ('d.steps("W11")', "text/latex"),
    ('d.steps("W11")[1]', "text/latex"),
    ('d.steps("W11")[-1]', "text/latex"),
    ("vd", "text/latex"),
    ('vd.equation("dW1")', "text/latex"),
    ("vd.steps", "text/latex"),
    ("vd.steps[3]", "text/latex"),
    ('load("one_hidden_layer")', "text/latex"),
    ('d.verify("W11", "(yhat - y)*w1*a1*a1*x1")', "text/markdown"),
    ('verify_vector(VecTarget(load("one_hidden_layer")), "dW1", "(1/m) dZ1 X")', "text/markdown"),
]


def run(nb, timeout=600):
    """Execute ``nb`` in a python3 kernel that imports this checkout's derive (run from the repository root)."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), before) if p)
    try:
        client = NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(ROOT)}})
        client.execute()
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before
    return nb


@pytest.fixture(scope="module")
def executed():
    nb = new_notebook(cells=[new_code_cell(SETUP)] + [new_code_cell(code) for code, _ in CELLS])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return run(nb)


@pytest.mark.parametrize(("index", "code", "mime"), [(i, c, m) for i, (c, m) in enumerate(CELLS, start=1)])
def test_each_object_displays_as_math(executed, index, code, mime):
    outputs = executed.cells[index].outputs
    assert [o.output_type for o in outputs] == ["execute_result"], (code, outputs)
    data = outputs[0].data
    assert mime in data, (code, sorted(data))
    text = data[mime]
    if mime == "text/latex":
        assert text.startswith("$\\displaystyle") and text.endswith("$"), text
        assert "0x" not in data["text/plain"] and "Str" not in text
    else:
        assert text.startswith("**"), text


def test_the_step_list_prints_as_the_cli_does(executed):
    plain = executed.cells[3].outputs[0].data["text/plain"]
    assert plain.splitlines()[0].startswith("chain rule: ∂L/∂W11 = ")
    assert plain.splitlines()[-1] == "result: ∂L/∂W11 = (ŷ − y)·w1·a1·(1 − a1)·x1"


def test_the_tutorial_runs_and_is_stored_without_outputs():
    path = ROOT / "docs" / "tutorial.ipynb"
    stored = nbformat.read(path, as_version=4)
    assert all(not c.get("outputs") and not c.get("execution_count") for c in stored.cells if c.cell_type == "code")
    nb = run(stored)
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    results = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "execute_result"]
    assert sum("text/latex" in o.data for o in results) >= 5
    assert any("text/markdown" in o.data for o in results)


def test_the_tutorial_says_how_to_run_it_with_what_is_installed():
    """Its first cell names `jupyter execute` (nbclient's command, in the test extras) and not nbconvert,
    which is not installed; the command is there beside this Python."""
    first = "".join(nbformat.read(ROOT / "docs" / "tutorial.ipynb", as_version=4).cells[0].source)
    assert "jupyter execute docs/tutorial.ipynb" in first and "jupyter lab" in first
    assert "nbconvert` is not installed" in first
    assert (Path(sys.executable).parent / "jupyter-execute").exists()
