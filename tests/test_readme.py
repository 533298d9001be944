"""The README's tour stays true: its ```python blocks run, the values its comments show are what the code
gives, its `chainrule` commands run (exit 0, or 1 for a claim the README shows to be wrong), and the outputs
it prints are what the commands print."""

import ast
import contextlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
BLOCKS = [(lang, body) for lang, body in FENCE.findall(README)]
PYTHON = [body for lang, body in BLOCKS if lang == "python"]
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


def run_block(source: str) -> list[str]:
    """Execute a block statement by statement; return the comments checked against their values."""
    namespace = {"__name__": "readme"}
    notes = comments(source)
    checked = []
    for stmt in ast.parse(source).body:
        code = ast.Module([stmt], type_ignores=[])
        if isinstance(stmt, ast.Expr):
            value = eval(compile(ast.Expression(stmt.value), "README.md", "eval"), namespace)
            note = notes.get(stmt.end_lineno)
            if note and shows(note, value):
                checked.append(note)
        else:
            exec(compile(code, "README.md", "exec"), namespace)  # noqa: S102 (the README's own code)
    return checked


def test_the_readme_has_its_blocks():
    assert len(PYTHON) >= 3
    assert sum(lang == "sh" for lang, _ in BLOCKS) >= 4


@pytest.mark.parametrize("index", range(len(PYTHON)))
def test_python_block_runs(index):
    run_block(PYTHON[index])


def test_the_values_the_tour_shows():
    checked = [note for block in PYTHON for note in run_block(block)]
    for expected in ("a1*w1*x1*(1 - a1)*(-y + yhat)", "-y + yhat", "-0.02694…", "'dW1 = (1/m) dZ1 Xᵀ'"):
        assert expected in checked, expected
    assert "((n1, n0), (4, 2))" in checked


def commands() -> list[list[str]]:
    """Each `chainrule ...` line of the sh blocks (and the indented examples), split at &&."""
    lines = [line for lang, body in BLOCKS if lang == "sh" for line in body.splitlines()]
    lines += [m.group(1) for m in re.finditer(r"^    (chainrule .*)$", README, re.MULTILINE)]
    lines += re.findall(r"`(chainrule [^`]*)` prints", README)  # commands whose output the README shows
    out = []
    for line in lines:
        if not line.startswith("chainrule ") or line.startswith(SLOW):
            continue
        out.append([shlex.split(part, comments=True) for part in line.split("&&")])
    return out


def run_cli(words: list[str], cwd: Path):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    if words[0] == "chainrule":
        argv = [sys.executable, "-m", "chainrule", *words[1:]]
    elif words[0] == "python3":
        argv = [sys.executable, *words[1:]]
    else:
        raise AssertionError(f"the README runs {words[0]!r}, which this test does not know")
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=900)


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """Run every README command in an empty folder (with the example sheets where the README finds them)."""
    folder = tmp_path_factory.mktemp("readme")
    shutil.copytree(ROOT / "codegen" / "sheets", folder / "codegen" / "sheets")
    (folder / "my_net.py").write_text(
        "from derive import Network, sigmoid, squared_error\n"
        "network = Network('my_net')\nx = network.inputs('x')\ny = network.targets('y')\n"
        "w, b = network.params('w b')\na = network.let('a', sigmoid(w*x + b))\nnetwork.loss(squared_error(a, y))\n",
        encoding="utf-8",
    )
    results = {}
    for parts in commands():
        for words in parts:
            results[" ".join(words)] = run_cli(words, folder)
    return results


def test_readme_commands_run(outputs):
    assert len(outputs) >= 12
    for command, done in outputs.items():
        expected = (0, 1) if command.startswith("chainrule verify") else (0,)
        assert done.returncode in expected, f"{command}: exit {done.returncode}\n{done.stderr[-2000:]}"
        assert "Traceback" not in done.stderr, command


def block_after(marker: str) -> list[str]:
    rest = README[README.index(marker) :]
    return FENCE.search(rest).group(2).strip().splitlines()


def test_the_printed_outputs_are_what_the_commands_print(outputs):
    derived = outputs["chainrule derive two_layer_sigmoid --wrt W11"].stdout.splitlines()
    shown = block_after("`chainrule derive two_layer_sigmoid --wrt W11` prints the derivation:")
    assert shown == [line for line in derived if line in shown] and len(shown) >= 10
    verdict = outputs["chainrule verify two_layer_sigmoid --wrt W11 --claim (yhat - y)*w1*a1*a1*x1"].stdout
    (shown,) = [body for lang, body in BLOCKS if body.startswith("∂L/∂W11: WRONG")]
    for line in shown.strip().splitlines():
        if "counterexample" not in line:  # abridged in the README
            assert line in verdict.splitlines(), line
