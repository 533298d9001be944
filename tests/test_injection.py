"""Names and doc strings are inert in every file chainrule writes.

A network's name, its ``doc=`` string and the spec file's own name reach the
generated module (its docstring and a comment), the test module, the LaTeX
handout and slides, the HTML page and the notebook.  Each field below carries
code that would run if it escaped its string (closing a docstring, a comment,
a LaTeX group, an HTML element): the tests import the module and its tests,
build the PDF, read the HTML and the notebook, and assert that no marker file
appears and that every file still compiles.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.cli import main

ROOT = Path(__file__).resolve().parent.parent
MARKER = "pwned_marker"


def payload(tag: str) -> str:
    """Code for a docstring, a comment, LaTeX, HTML and Markdown, and a Windows path (backslashes)."""
    return (
        f'x"""\nopen("{MARKER}_{tag}", "w")\n"""\n'
        f"'''\nopen('{MARKER}_{tag}q', 'w')\n'''\\\n"
        f"\\input{{/etc/hostname}} \\write18{{touch {MARKER}_{tag}tex}} \\immediate\\write18{{id}}\n"
        f'<script>document.title="{MARKER}"</script> [link](javascript:alert(1)) $\\x$ C:\\users\\new\\t'
    )


UNIT_SPEC = """from derive import Network, binary_cross_entropy, sigmoid

net = Network(NAME, doc=DOC)
x1, x2 = net.inputs("x1 x2")
y = net.targets("y")
w1, w2, b = net.params("w1 w2 b")
z = net.let("z", w1 * x1 + w2 * x2 + b)
yhat = net.let("yhat", sigmoid(z))
net.loss(binary_cross_entropy(yhat, y))
network = net
"""

LAYER_SPEC = """from derive import binary_cross_entropy, mlp, sigmoid, tanh

network = mlp(NAME, [2, 3, 1], hidden=tanh, output=sigmoid, loss=binary_cross_entropy, doc=DOC)
"""

# a spec file's name is printed in the module's docstring and comments
SPEC_FILE = f'spec"""\nopen("{MARKER}_file", "w")\n"""\\write18{{x}}.py'


def one_line(text: str) -> str:
    return text.replace("\n", " ")


def write_spec(folder: Path, body: str) -> Path:
    text = body.replace("NAME", repr(one_line(payload("name")))).replace("DOC", repr(payload("doc")))
    path = folder / SPEC_FILE
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(*args) -> int:
    return main([str(a) for a in args])


def assert_no_marker(folder: Path) -> None:
    found = [p.name for p in folder.rglob(f"{MARKER}*")]
    assert not found, f"injected code ran: {found}"


@pytest.mark.parametrize("body", [UNIT_SPEC, LAYER_SPEC], ids=["per_unit", "layers"])
def test_generated_module_and_tests_are_inert(tmp_path, body):
    spec = write_spec(tmp_path, body)
    module = tmp_path / "mod.py"
    assert run_cli("generate", spec, "-o", module) == 0
    texts = [module.read_text(encoding="utf-8"), (tmp_path / "test_mod.py").read_text(encoding="utf-8")]
    for text in texts:
        ast.parse(text)
    # the docstring reads as the network's name and doc, and nothing after it is code from them
    tree = ast.parse(texts[0])
    assert tree.body[0].value.value.startswith(f"{one_line(payload('name'))}: {payload('doc')}\n")
    assert not any(MARKER in ast.unparse(node) for node in tree.body[1:])
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import mod, test_mod; p = mod.init_params(0); X, Y = mod.demo_data(8); mod.loss(p, X, Y)",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    ruff = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--select", "E9,F", "mod.py", "test_mod.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert ruff.returncode == 0, ruff.stdout
    assert_no_marker(tmp_path)


@pytest.mark.parametrize("body", [UNIT_SPEC, LAYER_SPEC], ids=["per_unit", "layers"])
def test_latex_handout_and_slides_are_inert(tmp_path, body):
    spec = write_spec(tmp_path, body)
    outputs = [("handout.tex",)]
    if body is UNIT_SPEC:
        outputs.append(("slides.tex", "--slides"))
    for name, *extra in outputs:
        assert run_cli("handout", spec, "-o", tmp_path / name, *extra) == 0
        tex = (tmp_path / name).read_text(encoding="utf-8")
        for command in ("\\input", "\\write18", "\\immediate", "\\x"):
            assert command not in tex, command
        # the name and doc start no line of their own (a newline in them would end a % comment)
        assert not any(line.startswith(("open(", "'''", '"""')) for line in tex.splitlines())
    assert_no_marker(tmp_path)


def test_pdf_of_an_injected_handout_compiles(tmp_path):
    spec = write_spec(tmp_path, UNIT_SPEC)
    assert run_cli("handout", spec, "-o", tmp_path / "h.tex", "--pdf") == 0
    assert (tmp_path / "h.pdf").stat().st_size > 1000
    assert_no_marker(tmp_path)


def test_html_and_notebook_are_inert(tmp_path):
    spec = write_spec(tmp_path, UNIT_SPEC)
    assert run_cli("handout", spec, "-o", tmp_path / "h.html") == 0
    page = (tmp_path / "h.html").read_text(encoding="utf-8")
    assert "<script>document" not in page and 'href="javascript' not in page
    assert run_cli("handout", spec, "-o", tmp_path / "h.ipynb") == 0
    notebook = json.loads((tmp_path / "h.ipynb").read_text(encoding="utf-8"))
    for cell in notebook["cells"]:
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            assert MARKER not in ast.unparse(ast.parse(source))  # in a comment at most
        else:
            assert "<script>" not in source and "[link](" not in source
    assert_no_marker(tmp_path)
    assert not (Path(os.getcwd()) / f"{MARKER}_name").exists()


@pytest.mark.parametrize("name", ["two\nlines", "", "tab\there", 3])
def test_a_network_name_is_one_line_of_text(tmp_path, capsys, name):
    spec = tmp_path / "spec.py"
    spec.write_text(UNIT_SPEC.replace("NAME", repr(name)).replace("DOC", "''"), encoding="utf-8")
    assert run_cli("derive", spec) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "spec.py:3: the network's name must be one line of printable text" in err
