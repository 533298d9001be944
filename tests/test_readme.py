"""The README and the user guide (docs/*.md) stay true: their ```python blocks run, the values their comments
show are what the code gives, their `chainrule` commands run (exit 0, or 1 for a claim shown to be wrong), and
the outputs they print are what the commands print.  The commands run first, in an empty folder, and the
Python blocks run after them in that folder, as a reader would (`import one_hidden_layer` imports the module
`chainrule generate` wrote).  Every page works at one example point: the catalogue's two_layer_sigmoid example,
whose ∂L/∂W11 the tool computes here."""

import ast
import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tokenize
import traceback
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    p.relative_to(ROOT).as_posix(): p.read_text(encoding="utf-8")
    for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
}
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
BLOCKS = [(page, lang, body) for page, text in PAGES.items() for lang, body in FENCE.findall(text)]
PYTHON = [(page, body) for page, lang, body in BLOCKS if lang == "python"]
SLOW = ("chainrule demo", "chainrule nlp report", "bash scripts/setup.sh")  # run by their own tests


def comments(source: str) -> dict[int, str]:
    """Line number -> the comment at the end of that line."""
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string[1:].strip()
    return out


def shows(comment: str, value) -> bool:
    """Whether a comment states the value: its str or repr, or their beginning when it ends in '…'."""
    forms = []
    for form in (str, repr):
        with contextlib.suppress(Exception):  # a comment on a value that does not print is not checked
            forms.append(form(value))
    if comment.endswith("…"):
        return any(f.startswith(comment[:-1]) for f in forms)
    return comment in forms or any(comment.split("  ")[0] == f for f in forms)


def run_block(source: str, page: str = "README.md") -> list[str]:
    """Execute a block statement by statement; return the comments checked against their values."""
    namespace = {"__name__": "readme"}
    notes = comments(source)
    checked = []
    for stmt in ast.parse(source).body:
        code = ast.Module([stmt], type_ignores=[])
        if isinstance(stmt, ast.Expr):
            value = eval(compile(ast.Expression(stmt.value), page, "eval"), namespace)
            note = notes.get(stmt.end_lineno)
            if note and shows(note, value):
                checked.append(note)
        else:
            exec(compile(code, page, "exec"), namespace)  # noqa: S102 (the page's own code)
    return checked


def test_the_pages_have_their_blocks():
    readme = [lang for page, lang, _ in BLOCKS if page == "README.md"]
    assert readme.count("python") >= 3 and readme.count("sh") >= 4
    assert len(PYTHON) >= 8 and sum(lang == "sh" for _, lang, _ in BLOCKS) >= 8


def commands() -> list[list[str]]:
    """Each `chainrule ...` line of the sh blocks (and the indented examples), split at &&, once each."""
    lines = [line for _, lang, body in BLOCKS if lang == "sh" for line in body.splitlines()]
    for text in PAGES.values():
        lines += [m.group(1) for m in re.finditer(r"^    (chainrule .*)$", text, re.MULTILINE)]
        lines += re.findall(r"`(chainrule [^`]*)` prints", text)  # commands whose output a page shows
    out = []
    for line in lines:
        if not line.startswith("chainrule ") or line.startswith(SLOW):
            continue
        parts = [shlex.split(part, comments=True) for part in line.split("&&")]
        if parts not in out:
            out.append(parts)
    return out


def run_cli(words: list[str], cwd: Path):
    """A page's command, in ``cwd``: ``chainrule …`` in this process (``codegen.cli.main``, as the ``chainrule``
    script calls it: a new Python for each of the 35 commands cost 0.5 s apiece, 19 s of the fixture's 47 s;
    the wheel's test and the CLI tests run the real script), ``python3 …`` as a process of its own."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    if words[0] == "chainrule":
        return run_in_process(words, cwd)
    if words[0] == "python3":
        argv = [sys.executable, *words[1:]]
    else:
        raise AssertionError(f"a page runs {words[0]!r}, which this test does not know")
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900)


def run_in_process(words: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """``chainrule ARGS`` run by ``codegen.cli.main`` here, in ``cwd``: its exit status and what it printed (an
    exception that escapes it is a traceback on its standard error and status 70, as the script would show)."""
    from codegen.cli import main

    out, err = io.StringIO(), io.StringIO()
    here = os.getcwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(words[1:])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
            except Exception:  # noqa: BLE001 - reported as the script would report it
                traceback.print_exc()
                code = 70
    finally:
        os.chdir(here)
    return subprocess.CompletedProcess(words, code, out.getvalue(), err.getvalue())


def block_starting(lang: str, first_line: str) -> str:
    """The body of the README's block of ``lang`` whose first line is ``first_line``."""
    (body,) = [b for page, la, b in BLOCKS if page == "README.md" and la == lang and b.startswith(first_line)]
    return body


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """An empty folder with the files the README tells its reader to write (my_net.py, point.txt) and the
    example sheets where the pages find them."""
    out = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "codegen" / "sheets", out / "codegen" / "sheets")
    (out / "my_net.py").write_text(block_starting("python", "# my_net.py\n"), encoding="utf-8")
    (out / "point.txt").write_text(block_starting("text", "x1 = "), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def outputs(folder):
    """Run every command of the pages in that folder."""
    results = {}
    for parts in commands():
        for words in parts:
            results[" ".join(words)] = run_cli(words, folder)
    return results


@pytest.mark.parametrize("index", range(len(PYTHON)), ids=[f"{page}-{i}" for i, (page, _) in enumerate(PYTHON)])
def test_python_block_runs(index, outputs, folder, monkeypatch):
    page, source = PYTHON[index]
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    run_block(source, page)


def test_the_values_the_pages_show(outputs, folder, monkeypatch):
    monkeypatch.chdir(folder)
    monkeypatch.syspath_prepend(str(folder))
    checked = [note for page, block in PYTHON for note in run_block(block, page)]
    for expected in ("a1*w1*x1*(1 - a1)*(-y + yhat)", "-y + yhat", "-0.06817…", "'dW1 = (1/m) dZ1 Xᵀ'"):
        assert expected in checked, expected
    assert "((n1, n0), (4, 2))" in checked
    assert "['W1', 'W2', 'b1', 'b2']" in checked and "0.96875" in checked  # the engineer's tour


def test_readme_commands_run(outputs):
    assert len(outputs) >= 16
    for command, done in outputs.items():
        expected = (0, 1) if command.startswith("chainrule verify") else (0,)
        assert done.returncode in expected, f"{command}: exit {done.returncode}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr, command


def block_after(marker: str) -> list[str]:
    (text,) = [t for t in PAGES.values() if marker in t]
    rest = text[text.index(marker) :]
    return FENCE.search(rest).group(2).strip().splitlines()


def test_the_printed_outputs_are_what_the_commands_print(outputs):
    derived = outputs["chainrule derive two_layer_sigmoid --wrt W11"].stdout.splitlines()
    shown = block_after("`chainrule derive two_layer_sigmoid --wrt W11` prints the derivation:")
    assert shown == [line for line in derived if line in shown] and len(shown) >= 10
    verdict = outputs["chainrule verify two_layer_sigmoid --wrt W11 --claim (yhat - y)*w1*a1*a1*x1"].stdout
    (shown,) = [body for _, _, body in BLOCKS if body.startswith("∂L/∂W11: WRONG")]
    for line in shown.strip().splitlines():
        if "counterexample" not in line:  # abridged on the page
            assert line in verdict.splitlines(), line


# One example point throughout: the catalogue's two_layer_sigmoid example, ∂L/∂W11 computed by the tool.


@pytest.fixture(scope="module")
def example():
    """The catalogue's two_layer_sigmoid example (name -> value) and ∂L/∂W11 there."""
    from derive.catalogue import load

    net = load("two_layer_sigmoid")
    (point,) = net.examples.values()
    gradient = net.derive().evaluate({net.symbols[k]: v for k, v in point.items()}).gradients["W11"]
    return {k: float(v) for k, v in point.items()}, gradient


def four_digits(value: float) -> str:
    return f"{value:.4g}"


def test_every_page_states_the_one_value(example):
    _, gradient = example
    assert four_digits(gradient) == "-0.06817"  # what the pages say; if the example changes, so must they
    stated = []
    for page, text in PAGES.items():
        for match in re.finditer(r"∂L/∂W11 = ([−-]0\.\d+)", text):
            stated.append((page, match.group(1).replace("−", "-")))
        for match in re.finditer(r'gradients\["W11"\]\)?\s+# (-0\.\d+)…', text):
            stated.append((page, match.group(1)))
    assert len({page for page, _ in stated}) >= 3, stated
    for page, value in stated:
        if len(value) <= 8:  # four significant digits
            assert value == four_digits(gradient), (page, value)
        else:  # more digits: a prefix of the value
            assert repr(gradient).startswith(value), (page, value)


def test_the_readme_point_is_the_catalogue_example(example, outputs):
    point, gradient = example
    lines = [line.split("=") for line in block_starting("text", "x1 = ").splitlines()]
    assert {name.strip(): float(value) for name, value in lines} == point
    printed = outputs["chainrule evaluate two_layer_sigmoid --at point.txt"].stdout
    assert f"∂L/∂W11 = {four_digits(gradient)}" in printed.replace("−", "-")


def test_the_tutorial_and_the_handout_work_at_the_same_point(example):
    point, gradient = example
    notebook = json.loads((ROOT / "docs" / "tutorial.ipynb").read_text(encoding="utf-8"))
    cells = ["".join(c["source"]) for c in notebook["cells"] if c["cell_type"] == "code"]
    namespace: dict = {}
    for cell in cells:
        exec(cell, namespace)  # noqa: S102 (the tutorial's own code)
        if "point" in namespace and "ev" in namespace:
            break
    assert {str(k): float(v) for k, v in namespace["point"].items()} == point
    assert namespace["ev"].gradients["W11"] == pytest.approx(gradient, rel=1e-12)
    handout = (ROOT / "docs" / "handouts" / "two_layer_sigmoid.tex").read_text(encoding="utf-8")
    assert f"At the example, $\\partial L / \\partial W_{{11}} = {four_digits(gradient)}$." in handout
