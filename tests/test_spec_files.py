"""A spec file is user code: whatever it does besides declaring a network (raise, sys.exit, print,
read input, recurse, loop for ever) is one line naming the problem and the file, exit status 2,
within the spec time limit — on the main thread (an alarm) and on any other (a trace function)."""

from __future__ import annotations

import importlib
import json
import re
import threading
import time
from pathlib import Path

import pytest

from codegen.cli import main
from derive import ChainruleError
from derive.catalogue import load, load_spec, names
from derive.spec import transport

SPECS = [
    ("import sys\nsys.exit(3)\n", "spec.py:2: the spec called sys.exit(3)"),
    ("import sys\nsys.exit()\n", "spec.py:2: the spec called sys.exit(None)"),
    ("raise RuntimeError('boom')\n", "spec.py:1: the spec raised RuntimeError: boom"),
    ("def build():\n    raise ValueError('bad')\n", "spec.py:2: the spec raised ValueError: bad"),
    ("print('hello')\n", "spec.py: the spec printed 'hello'"),
    ("import sys\nsys.stderr.write('note')\n", "spec.py: the spec printed 'note'"),
    ("x = input()\n", "spec.py:1: the spec raised EOFError"),
    ("def f():\n    return f()\nf()\n", "the spec raised RecursionError"),
    ("while True:\n    pass\n", "spec.py:1: the spec did not finish within 0.5 s"),
    ("import time\ntime.sleep(60)\n", "spec.py:2: the spec did not finish within 0.5 s"),
    ("x = 1\n", "spec.py: the spec defines no 'network'"),
    ("network = 3\n", "spec.py: the spec defines no 'network'"),
    ("raise SystemExit('multi\\nline')\n", "spec.py:1: the spec called sys.exit('multi\\nline')"),
    ("raise ValueError('multi\\nline')\n", "spec.py:1: the spec raised ValueError: multi line"),
    ("def (:\n", "spec.py:1: syntax error in the spec"),
]


@pytest.fixture(autouse=True)
def short_limit(monkeypatch):
    monkeypatch.setenv("CHAINRULE_SPEC_SECONDS", "0.5")


@pytest.mark.parametrize(("body", "message"), SPECS)
def test_a_misbehaving_spec_is_one_line(tmp_path, monkeypatch, capsys, body, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spec.py").write_text(body, encoding="utf-8")
    start = time.monotonic()
    assert main(["derive", "spec.py", "--json"]) == 2
    out, err = capsys.readouterr()
    assert err.count("\n") == 1 and err.startswith("chainrule: error: ")
    assert message in err, err
    assert json.loads(out)["error"]["message"] in err  # with --json the error is JSON on stdout too
    assert time.monotonic() - start < 5


def test_the_limit_holds_off_the_main_thread(tmp_path):
    spec = tmp_path / "spec.py"
    spec.write_text("while True:\n    pass\n", encoding="utf-8")
    caught = []

    def load():
        try:
            load_spec(str(spec))
        except ChainruleError as exc:
            caught.append(str(exc))

    start = time.monotonic()
    worker = threading.Thread(target=load)
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and time.monotonic() - start < 5
    assert caught and "did not finish within 0.5 s" in caught[0]


# ------------------------------------------------ a spec that tries to escape its process and its limit
UNIT = """from derive import Network, binary_cross_entropy, sigmoid

net = Network("n")
x1, x2 = net.inputs("x1 x2")
y = net.targets("y")
w1, w2, b = net.params("w1 w2 b")
yhat = net.let("yhat", sigmoid(w1 * x1 + w2 * x2 + b))
net.loss(binary_cross_entropy(yhat, y))
network = net
"""
LATE = 1.0  # seconds after which an escaped thread or process writes its marker (the limit is 0.5 s)
ESCAPES = [  # (case, code after the declaration, None when chainrule succeeds or the expected one-line error)
    (
        "thread",
        "import threading, time\nthreading.Thread(target=lambda: (time.sleep(LATE), mark(), print('late'))).start()\n",
        None,
    ),
    ("fork", "import os, time\nif os.fork() == 0:\n    time.sleep(LATE); mark(); os._exit(0)\n", None),
    (
        "daemon_subprocess",
        (
            "import subprocess, sys\nsubprocess.Popen([sys.executable, '-c', f'import time; time.sleep({LATE}); "
            'open({MARKER!r}, "w")\'], start_new_session=True)\n'
        ),
        None,
    ),
    (
        "double_fork",
        (
            "import os, time\nif os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n        time.sleep(LATE); mark()\n"
            "    os._exit(0)\n"
        ),
        None,
    ),
    ("atexit", "import atexit\natexit.register(lambda: (mark(), print('at exit')))\n", None),
    ("os_write", "import os\nos.write(1, b'around the capture')\n", "the spec printed 'around the capture'"),
    ("os_write_2", "import os\nos.write(2, b'to stderr')\n", "the spec printed 'to stderr'"),
    ("os_exit_0", "import os\nos._exit(0)\n", "the spec's process ended with exit status 0"),
    ("killed", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "killed by SIGKILL"),
    ("timer_reset", "import signal, time\nsignal.setitimer(signal.ITIMER_REAL, 0)\ntime.sleep(30)\n", "within 0.5 s"),
    (
        "signals_ignored",
        (
            "import signal, time\nfor s in (signal.SIGALRM, signal.SIGUSR1, signal.SIGTERM):\n"
            "    signal.signal(s, signal.SIG_IGN)\ntime.sleep(30)\n"
        ),
        "within 0.5 s",
    ),
    (
        "timeout_caught",
        "while True:\n    try:\n        while True:\n            pass\n    except BaseException:\n        pass\n",
        "within 0.5 s",
    ),
    (
        "nested_limit",
        "import time\nnet.derive().verify('w1', '(yhat - y)*x1')\ntime.sleep(30)\n",
        "spec.py:16: the spec did not finish within 0.5 s",
    ),
    ("thread_spinning", "import threading\nthreading.Thread(target=lambda: [0 for _ in iter(int, 1)]).start()\n", None),
]


def test_nothing_a_spec_starts_outlives_it(tmp_path, monkeypatch, capsys):
    """Threads, forks, subprocesses in sessions of their own, a double fork: none runs on once chainrule has
    the network (or the limit struck); output around sys.stdout and abnormal exits are one line, exit 2;
    switching off the timer or catching the timeout does not make the limit longer."""
    monkeypatch.chdir(tmp_path)
    outcomes = []
    for case, code, error in ESCAPES:
        marker = tmp_path / f"escaped_{case}"
        prelude = f"LATE = {LATE}\nMARKER = {str(marker)!r}\ndef mark():\n    open(MARKER, 'w').close()\n"
        (tmp_path / "spec.py").write_text(UNIT + prelude + code, encoding="utf-8")
        start = time.monotonic()
        status = main(["derive", "spec.py", "--json"])
        elapsed = time.monotonic() - start
        outcomes.append((case, error, status, *capsys.readouterr(), elapsed))
    time.sleep(LATE + 1.0)  # anything that escaped has written its marker by now
    assert sorted(p.name for p in tmp_path.glob("escaped_*")) == []
    for case, error, status, out, err, elapsed in outcomes:
        assert elapsed < 5, (case, elapsed)  # the limit (0.5 s) and its grace (0.5 s), never the 30 s asked for
        if error is None:
            assert status == 0 and err == "", (case, err)
            assert json.loads(out)["network"] == "n", case  # valid JSON, nothing printed after it
        else:
            assert status == 2 and json.loads(out)["error"]["status"] == 2 and err.count("\n") == 1, (case, err)
            assert error in err, (case, err)


def test_a_spec_cannot_forge_what_chainrule_reads_back(tmp_path, monkeypatch, capsys):
    """The network comes back as data, built again from SymPy's and derive's classes only: an object of the
    spec's own (which a pickle would call back into, here) is refused in one line, and nothing runs."""
    monkeypatch.chdir(tmp_path)
    code = "class Evil:\n    def __reduce__(self):\n        return (open, ('pwned', 'w'))\nnet.extra = Evil()\n"
    (tmp_path / "spec.py").write_text(UNIT + code, encoding="utf-8")
    assert main(["derive", "spec.py"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("chainrule: error: spec.py: the network holds an object of class Evil"), err
    assert not (tmp_path / "pwned").exists()


def test_forged_data_builds_nothing_but_declarations():
    """The reader refuses a class outside SymPy and derive, a function, and an expression from a string."""
    forged = [
        [1, ["object", 0, "os", "system", []]],
        [1, ["basic", 0, "sympy.core.sympify", "sympify", [["str", 1, "__import__('os')"]]]],
        [1, ["basic", 0, "sympy.functions.elementary.trigonometric", "sin", ["__import__('os')"]]],
        [1, ["object", 0, "derive.ir.network", "VecNetwork.let", []]],
        [1, ["ref", 5]],
        [1, ["list", 0, [["list", 0, []]]]],
    ]
    for data in forged:
        with pytest.raises(ValueError):
            transport.loads(json.dumps(data))


@pytest.mark.unshared  # as built: a shared network holds the kept derivations of tests/conftest.py
@pytest.mark.parametrize("name", names())
def test_every_catalogue_network_comes_back_the_same(name):
    """Every catalogue network, written as data and read back, is the same object graph (its data again
    is the same text), and equal expression by expression."""
    net = load(name)
    text = transport.dumps(net)
    back = transport.loads(text)
    assert transport.dumps(back) == text
    assert type(back) is type(net) and back.name == net.name
    exprs = [n.expr for n in net.nodes] if hasattr(net, "nodes") else [a.value for a in net.assignments]
    again = [n.expr for n in back.nodes] if hasattr(back, "nodes") else [a.value for a in back.assignments]
    assert exprs == again


def copy_into_spec(name: str, folder: Path) -> str:
    """A spec file with the source of catalogue network ``name``; its path."""
    source = Path(importlib.import_module(f"derive.catalogue.{name}").__file__).read_text(encoding="utf-8")
    (folder / "copied_spec.py").write_text(source.replace("from .", "from derive.catalogue.") + "\nnetwork = build()\n")
    return "copied_spec.py"


@pytest.mark.unshared
def test_every_catalogue_network_copied_into_a_spec_file_is_the_same(tmp_path, monkeypatch):
    """Declared in a spec file's own process and read back, each catalogue network is the one built here: the
    same data but the declaring file's name in each line's place."""
    monkeypatch.setenv("CHAINRULE_SPEC_SECONDS", "30")
    monkeypatch.chdir(tmp_path)
    for name in names():
        spec = copy_into_spec(name, tmp_path)
        here = re.sub(rf'"[^"]*derive/catalogue/{name}\.py:', f'"{spec}:', transport.dumps(load(name)))
        assert transport.dumps(load_spec(spec)) == here, name


@pytest.mark.parametrize(
    "name", ["two_layer_sigmoid", "one_hidden_layer", "lstm_cell", "embedding_classifier", "conv_net"]
)
def test_a_catalogue_network_copied_into_a_spec_file_generates_the_same_module(tmp_path, monkeypatch, name):
    """... and generates the module and tests the catalogue network built here does, byte for byte."""
    from codegen.emit.load import context_for
    from codegen.emit.numpy_module import module_text, test_text

    monkeypatch.setenv("CHAINRULE_SPEC_SECONDS", "30")
    monkeypatch.chdir(tmp_path)

    def texts(net):
        context = context_for(net, "copied_spec.py")
        return module_text(context, name), test_text(name, 8, 0, name, context)

    assert texts(load_spec(copy_into_spec(name, tmp_path))) == texts(load(name))


def test_a_users_conv_program_in_a_spec_file_derives_generates_hands_out_and_verifies(tmp_path, monkeypatch, capsys):
    """docs/examples/conv_two_layers.py, declared in the spec's own process: its images, filter banks and image
    nodes (im2col, mat, unmat, pooling) come back as the file declares them, and every command runs on it."""
    import runpy

    monkeypatch.setenv("CHAINRULE_SPEC_SECONDS", "30")
    spec = str(Path(__file__).resolve().parent.parent / "docs" / "examples" / "conv_two_layers.py")
    here = runpy.run_path(spec)["network"]
    back = load_spec(spec)
    assert transport.dumps(back) == transport.dumps(here)
    assert back.images["P1"] == here.images["P1"] and back.filter_banks == here.filter_banks
    assert back.derive().equation("dP1").text == "dP1 = col2im(dP1_col)"
    monkeypatch.chdir(tmp_path)
    assert main(["generate", spec, "-o", "two.py"]) == 0
    assert "def col2im(" in Path("two.py").read_text()
    for out in ("two.tex", "two.html", "two.ipynb"):
        assert main(["handout", spec, "-o", out]) == 0
        assert "Convolution and pooling" in Path(out).read_text(), out
    sheet = Path(__file__).resolve().parent.parent / "codegen" / "sheets" / "conv" / "cs231n_naive.py"
    assert main(["verify", spec, "--code", str(sheet)]) == 0
    assert main(["verify", spec, "--wrt", "dw", "--claim", "(dout_row @ x_cols.T).reshape(w.shape)"]) == 0
    capsys.readouterr()
    assert main(["verify", spec, "--wrt", "W2", "--claim", "W2 - 1"]) == 1  # the program's own names: its matrices
    assert "counterexample" in capsys.readouterr().out
