"""The bad-input catalogue: malformed spec files, command-line arguments, claims, LaTeX claims and output
paths, as a hostile or careless user gives them.

Each case runs the command line in this process (``codegen.cli.main``) and asserts: exit status 2;
exactly one line with ``error:`` on stderr, naming the problem and its place; no traceback; nothing
on stdout; no file left behind; an answer within 5 s.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from codegen.cli import main

SECONDS = 5.0

UNIT = """from derive import Network, binary_cross_entropy, sigmoid
import sympy as sp

net = Network("n")
x1, x2 = net.inputs("x1 x2")
y = net.targets("y")
w1, w2, b = net.params("w1 w2 b")
z = net.let("z", w1 * x1 + w2 * x2 + b)
yhat = net.let("yhat", sigmoid(z))
net.loss(binary_cross_entropy(yhat, y))
network = net
"""

LAYERS = """from derive import VecNetwork, binary_cross_entropy, sigmoid, tanh, mlp, mse, softmax, identity, relu
import sympy as sp

net = VecNetwork("v")
n0, n1, n2 = net.dims(n0=2, n1=3, n2=1)
X, Y = net.input("X", n0), net.target("Y", n2)
W1, b1 = net.param("W1", (n1, n0)), net.param("b1", (n1, 1))
W2, b2 = net.param("W2", (n2, n1)), net.param("b2", (n2, 1))
Z1 = net.let("Z1", W1 * X + b1)
A1 = net.let("A1", tanh(Z1))
Z2 = net.let("Z2", W2 * A1 + b2)
A2 = net.let("A2", sigmoid(Z2))
net.cost(binary_cross_entropy(A2, Y))
network = net
"""


RNN = """from derive import VecNetwork, binary_cross_entropy, sigmoid, tanh

net = VecNetwork("rnn")
d, n, k = net.dims(d=3, n=4, k=1)
U, W, b = net.param("U", (n, d)), net.param("W", (n, n)), net.param("b", (n, 1))
V, c = net.param("V", (k, n)), net.param("c", (k, 1))
net.sequence("T", 5)
with net.step():
    x = net.input("x", d)
    h_prev = net.state("h", n)
    a = net.let("a", W * h_prev + U * x + b)
    h = net.let("h", tanh(a))
Y = net.target("Y", k)
yhat = net.let("yhat", sigmoid(net.let("o", V * h + c)))
net.cost(binary_cross_entropy(yhat, Y))
network = net
"""
EXAMPLE_2 = (  # two examples (generate reads a network's examples as its demo data when there are two)
    'net.examples["e"] = {"x1": 0.5, "x2": 1.0, "y": 1.0, "w1": 0.1, "w2": 0.2, "b": 0.0}\n'
    'net.examples["f"] = {"x1": 1.5, "x2": 1.0, "y": 0.0, "w1": 0.1, "w2": 0.2, "b": 0.0}\nnetwork = net'
)


def unit(old: str, new: str) -> str:
    assert old in UNIT, old
    return UNIT.replace(old, new, 1)


def layers(old: str, new: str) -> str:
    assert old in LAYERS, old
    return LAYERS.replace(old, new, 1)


# ---------------------------------------------------------------- spec files: (id, spec text, problem, place)
SPECS = [
    # per-unit declarations
    ("undeclared", unit("w1 * x1 +", 'w1 * sp.Symbol("x3") +'), "undeclared symbol 'x3'", "spec.py:8"),
    ("twice", unit('yhat = net.let("yhat"', 'yhat = net.let("z"'), "'z' is defined twice", "spec.py:9"),
    ("cycle", unit('net.let("z", w1', 'net.let("z", sp.Symbol("z") + w1'), "cycle: 'z' depends on itself", "spec.py:8"),
    ("abs", unit("sigmoid(z)", "sp.Abs(z)"), "unsupported function 'Abs'", "spec.py:9"),
    ("max", unit("sigmoid(z)", "sp.Max(z, w1)"), "unsupported function 'Max'", "spec.py:9"),
    ("derivative", unit("sigmoid(z)", "sp.Derivative(z, w1)"), "unsupported construct 'Derivative'", "spec.py:9"),
    ("piecewise", unit("sigmoid(z)", "sp.Piecewise((z, z > 0), (0, True))"), "unsupported", "spec.py:9"),
    ("keyword", unit('"w1 w2 b")', '"w1 w2 lambda")'), "'lambda' is a Python keyword", "spec.py:7"),
    ("builtin", unit('"w1 w2 b")', '"w1 w2 float")'), "'float' is a Python builtin", "spec.py:7"),
    ("builtin_node", unit('net.let("z"', 'net.let("sum"'), "'sum' is a Python builtin", "spec.py:8"),
    ("generated_np", unit('"w1 w2 b")', '"w1 w2 np")'), "'np' is a name the generated module uses", "spec.py:7"),
    ("generated_sigmoid", unit('net.let("z"', 'net.let("sigmoid"'), "'sigmoid' is a name the generated", "spec.py:8"),
    ("generated_params", unit('"x1 x2")', '"x1 params")'), "'params' is a name the generated", "spec.py:5"),
    ("dunder", unit('"w1 w2 b")', '"w1 w2 __b")'), "'__b' starts with __", "spec.py:7"),
    ("nfkc", unit('"w1 w2 b")', '"w1 w2 ｗ1")'), "'ｗ1' is the same name as 'w1'", "spec.py:7"),
    ("nfkc_node", unit('net.let("z"', 'net.let("ｘ1"'), "'ｘ1' is the same name as 'x1'", "spec.py:8"),
    ("invalid_name", unit('"w1 w2 b")', '"w1 w2 1b")'), "'1b' is not a valid name", "spec.py:7"),
    ("dash_name", unit('net.let("z"', 'net.let("z-1"'), "'z-1' is not a valid name", "spec.py:8"),
    ("no_names", unit('net.params("w1 w2 b")', 'net.params("")'), "no param names given", "spec.py:7"),
    ("names_count", unit('net.let("z", w1', 'net.let("z q", w1'), "names 2 nodes but one value", "spec.py:8"),
    ("no_loss", unit("net.loss(binary_cross_entropy(yhat, y))", "pass"), "declares no loss", "network 'n'"),
    ("empty", 'from derive import Network\nnetwork = Network("empty")\n', "has no assignments", "network 'empty'"),
    ("after_loss", unit("network = net", 'net.let("q", yhat)\nnetwork = net'), "declared after the loss", "spec.py:11"),
    (
        "loss_twice",
        unit("network = net", "net.loss(yhat)\nnetwork = net"),
        "the loss is already declared",
        "spec.py:11",
    ),
    (
        "matrix_loss",
        unit("binary_cross_entropy(yhat, y))", "sp.Matrix([yhat, y]))"),
        "not a scalar expression",
        "spec.py:10",
    ),
    ("list_loss", unit("binary_cross_entropy(yhat, y))", "[yhat, y])"), "not a SymPy expression", "spec.py:10"),
    ("string_value", unit("sigmoid(z))", "'z + 1')"), "not a SymPy expression", "spec.py:9"),
    ("name_newline", unit('Network("n")', 'Network("two\\nlines")'), "must be one line of printable text", "spec.py:4"),
    ("name_number", unit('Network("n")', "Network(3)"), "must be one line of printable text", "spec.py:4"),
    ("doc_number", unit('Network("n")', 'Network("n", doc=3)'), "the network's doc must be a string", "spec.py:4"),
    # every kind of name refuses a newline, an ESC, a space or a lone surrogate, and shows it escaped (issue 24)
    ("name_esc", unit('"w1 w2 b")', '"w1 w2 b\\x1b")'), r"'b\x1b' is not a valid name", "spec.py:7"),
    ("name_surrogate", unit('"w1 w2 b")', '"w1 w2 b\\ud800")'), r"'b\ud800' is not a valid name", "spec.py:7"),
    ("node_esc", unit('net.let("z"', 'net.let("z\\x1b"'), r"'z\x1b' is not a valid name", "spec.py:8"),
    ("network_esc", unit('Network("n")', 'Network("n\\x1b")'), r"'n\x1b'", "spec.py:4"),
    ("network_surrogate", unit('Network("n")', 'Network("n\\ud800")'), r"'n\ud800'", "spec.py:4"),
    (
        "doc_surrogate",
        unit('Network("n")', 'Network("n", doc="a\\ud800")'),
        r"holds '\ud800' at character 2",
        "spec.py:4",
    ),
    ("doc_surrogate_html", unit('Network("n")', 'Network("n", doc="\\ud800")'), r"holds '\ud800'", "spec.py:4"),
    ("doc_surrogate_ipynb", unit('Network("n")', 'Network("n", doc="\\ud800")'), r"holds '\ud800'", "spec.py:4"),
    ("doc_surrogate_json", unit('Network("n")', 'Network("n", doc="\\ud800")'), r"holds '\ud800'", "spec.py:4"),
    ("doc_esc", unit('Network("n")', 'Network("n", doc="\\x1b[31mred")'), r"holds '\x1b' at character 1", "spec.py:4"),
    ("doc_set_after", unit("network = net", 'net.doc = "\\ud800"\nnetwork = net'), r"holds '\ud800'", "network 'n'"),
    (
        "kinds_set_after",
        unit("network = net", 'net.kinds["q\\n"] = "param"\nnetwork = net'),
        r"'q\n' is not",
        "network",
    ),
    ("dims_latex", layers("n0=2,", '**{"n\\\\input{/etc/hostname}": 30}, n0=2,'), "is not a valid name", "spec.py:5"),
    ("dims_space", layers("n0=2,", '**{"n 0": 2},'), "'n 0' is not a valid name", "spec.py:5"),
    ("dims_newline", layers("n0=2,", '**{"n\\n0": 2},'), r"'n\n0' is not a valid name", "spec.py:5"),
    ("dims_esc", layers("n0=2,", '**{"n\\x1b": 2},'), r"'n\x1b' is not a valid name", "spec.py:5"),
    ("dims_surrogate", layers("n0=2,", '**{"n\\ud800": 2},'), r"'n\ud800' is not a valid name", "spec.py:5"),
    ("dims_keyword", layers("n0=2,", "n0=2, **{'class': 2},"), "'class' is a Python keyword", "spec.py:5"),
    ("dims_generated", layers("n0=2,", "np=2,"), "'np' is a name the generated module uses", "spec.py:5"),
    ("dims_nfkc", layers("n2=1)", 'n2=1, **{"ｎ0": 4})'), "'ｎ0' is the same name as 'n0'", "spec.py:5"),
    (
        "dims_quantity",
        layers('net.input("X", n0)', 'net.input("n1", n0)'),
        "'n1' is defined twice (already a dim",
        "spec.py:6",
    ),
    (
        "dims_after",
        layers("network = net", "net.dims(X=3)\nnetwork = net"),
        "dimension 'X' is defined twice",
        "spec.py:14",
    ),
    (
        "constant_esc",
        layers("net.cost(", 'net.constant("lam\\x1b", 0.1)\nnet.cost('),
        r"'lam\x1b' is not a valid",
        "spec.py:13",
    ),
    # layer declarations
    ("dims_zero", layers("n0=2,", "n0=0,"), "size of 'n0' must be a positive integer", "spec.py:5"),
    ("dims_float", layers("n1=3,", "n1=2.5,"), "size of 'n1' must be a positive integer", "spec.py:5"),
    ("dims_m", layers("n2=1)", "m=1)"), "dimension 'm' is declared twice (or is the batch size m)", "spec.py:5"),
    ("shape_undeclared", layers("(n1, n0))", "(7, n0))"), "not a dimension declared with net.dims", "spec.py:7"),
    ("shape_three", layers("(n1, 1))", "(n1, 1, 1))"), "must be (rows, cols)", "spec.py:7"),
    ("no_cost", layers("net.cost(binary_cross_entropy(A2, Y))", "pass"), "declares no cost", "network 'v'"),
    (
        "cost_twice",
        layers("network = net", "net.cost(mse(A2, Y))\nnetwork = net"),
        "the cost is already declared",
        "spec.py:14",
    ),
    (
        "cost_shape",
        layers("binary_cross_entropy(A2, Y)", "binary_cross_entropy(A1, Y)"),
        "shape mismatch",
        "spec.py:13",
    ),
    (
        "layer_undeclared",
        layers('"Z1", W1 * X', '"Z1", sp.Symbol("W9", commutative=False) * X'),
        "undeclared symbol 'W9'",
        "spec.py:9",
    ),
    ("layer_keyword", layers('net.let("Z1"', 'net.let("class"'), "'class' is a Python keyword", "spec.py:9"),
    ("layer_builtin", layers('net.input("X"', 'net.input("input"'), "'input' is a Python builtin", "spec.py:6"),
    ("layer_generated", layers('net.let("A1"', 'net.let("forward"'), "'forward' is a name the generated", "spec.py:10"),
    ("layer_nfkc", layers('net.param("b1"', 'net.param("Ｗ1"'), "'Ｗ1' is the same name as 'W1'", "spec.py:7"),
    (
        "layer_m",
        layers('net.param("b2"', 'net.param("m"'),
        "'m' is defined twice (already a reserved name)",
        "spec.py:8",
    ),
    ("layer_twice", layers('net.let("Z2"', 'net.let("Z1"'), "'Z1' is defined twice", "spec.py:11"),
    ("layer_invalid", layers('net.let("Z2"', 'net.let("Z 2"'), "'Z 2' is not a valid name", "spec.py:11"),
    ("layer_bad_text", layers('net.let("Z2", W2 * A1 + b2)', 'net.let("Z2", "W2 @@ A1")'), "in 'Z2'", "spec.py:11"),
    ("layer_scalar", layers('net.let("Z2", W2 * A1 + b2)', 'net.let("Z2", sp.Integer(3))'), "scalar", "spec.py:11"),
    (
        "softmax_one_row",
        layers('A2 = net.let("A2", sigmoid(Z2))', 'A2 = net.activation("A2", "softmax", Z2)'),
        "softmax in 'A2' needs at least 2 rows",
        "spec.py:12",
    ),
    (
        "bce_identity",
        layers('net.let("A2", sigmoid(Z2))', 'net.activation("A2", "identity", Z2)'),
        "needs probabilities",
        "spec.py:13",
    ),
    (
        "cost_of_z",
        layers("binary_cross_entropy(A2, Y)", "mse(Y, Y)"),
        "the cost must take a quantity the network computes, not the target 'Y'",
        "spec.py:13",
    ),
    (
        "constant_nan",
        layers("net.cost(", 'net.constant("lam", float("nan"))\nnet.cost('),
        "must be finite",
        "spec.py:13",
    ),
    (
        "after_cost",
        layers("network = net", 'net.constant("lam", 0.1)\nnetwork = net'),
        "declared after the cost",
        "spec.py:14",
    ),
    (
        "mlp_sizes",
        'from derive import mlp\nnetwork = mlp("n", [2])\n',
        "sizes must be a list of at least two",
        "spec.py:2",
    ),
    (
        "mlp_relu_out",
        'from derive import mlp\nnetwork = mlp("n", [2, 3, 1], output="relu")\n',
        "relu cannot be the output",
        "spec.py:2",
    ),
    (
        "mlp_tanh_out",
        'from derive import mlp\nnetwork = mlp("n", [2, 3, 1], output="tanh", loss="mse")\n',
        "tanh cannot be the output",
        "spec.py:2",
    ),
    (
        "mlp_identity_hidden",
        'from derive import mlp\nnetwork = mlp("n", [2, 3, 1], hidden="identity")\n',
        "identity cannot be the hidden",
        "spec.py:2",
    ),
    ("mlp_loss", 'from derive import mlp\nnetwork = mlp("n", [2, 3, 1], loss="hinge")\n', "hinge", "spec.py:2"),
    # spec files that misbehave
    ("exit", "import sys\nsys.exit(3)\n", "the spec called sys.exit(3)", "spec.py:2"),
    ("raises", "raise RuntimeError('boom')\n", "the spec raised RuntimeError: boom", "spec.py:1"),
    ("build_raises", "def build():\n    raise ValueError('bad')\n", "the spec raised ValueError: bad", "spec.py:2"),
    ("prints", UNIT + "print('hello')\n", "the spec printed 'hello'", "spec.py"),
    ("loops", "while True:\n    pass\n", "the spec did not finish within 1 s", "spec.py:1"),
    ("sleeps", "import time\ntime.sleep(100)\n", "the spec did not finish within 1 s", "spec.py:2"),
    ("reads", "input()\n", "the spec raised EOFError", "spec.py:1"),
    ("recursion", "def f():\n    return f()\nf()\n", "the spec raised RecursionError", "spec.py:2"),
    ("syntax", "def (:\n", "syntax error in the spec", "spec.py:1"),
    ("no_network", "x = 1\n", "the spec defines no 'network'", "spec.py"),
    ("network_int", "network = 3\n", "the spec defines no 'network'", "spec.py"),
    ("import_error", "import no_such_module_xyz\n", "the spec raised ModuleNotFoundError", "spec.py:1"),
    # a spec in its own process: what gets around the capture, exits or cannot be carried back (issue 24)
    ("os_write", UNIT + "import os\nos.write(1, b'around')\n", "the spec printed 'around'", "spec.py"),
    ("os_write_json", UNIT + "import os\nos.write(2, b'around')\n", "the spec printed 'around'", "spec.py"),
    ("os_exit_0", UNIT + "import os\nos._exit(0)\n", "the spec's process ended with exit status 0", "spec.py"),
    ("os_exit_0_generate", "import os\nos._exit(0)\n", "the spec's process ended with exit status 0", "spec.py"),
    ("kills_itself", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n", "killed by SIGKILL", "spec.py"),
    (
        "timer_off",
        "import signal, time\nsignal.setitimer(signal.ITIMER_REAL, 0)\ntime.sleep(9)\n",
        "within 1 s",
        "spec.py",
    ),
    (
        "alarm_ignored",
        "import signal, time\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\ntime.sleep(9)\n",
        "within 1 s",
        "spec",
    ),
    (
        "foreign_object",
        UNIT + "class Mine:\n    pass\nnet.extra = Mine()\n",
        "holds an object of class Mine",
        "spec.py",
    ),
    ("nul_byte", "x = 1\ny = 2\x00\n", "source code string cannot contain null bytes", "spec.py:2"),
    # declarations that gave tracebacks or broken modules (issue 24)
    (
        "value_nan",
        unit("+ b)", "+ b + float('nan'))"),
        "the value of 'z' holds a number that is not finite",
        "spec.py:8",
    ),
    ("value_nan_json", unit("+ b)", "+ b + float('nan'))"), "holds a number that is not finite", "spec.py:8"),
    ("value_inf_layers", layers("W1 * X + b1)", "W1 * X + b1 + float('inf'))"), "not finite", "spec.py:9"),
    (
        "example_int_title",
        unit("network = net", EXAMPLE_2.replace('["e"]', "[1]")),
        "title must be one line",
        "network 'n'",
    ),
    ("example_int_title_handout", unit("network = net", EXAMPLE_2.replace('["e"]', "[1]")), "got 1", "network 'n'"),
    (
        "example_nan_generate",
        unit("network = net", EXAMPLE_2.replace("0.5", "float('nan')")),
        "'x1' must be a finite",
        "example 'e'",
    ),
    (
        "example_inf_generate",
        unit("network = net", EXAMPLE_2.replace("0.2", "1e999")),
        "'w2' must be a finite",
        "example 'e'",
    ),
    (
        "example_name_int",
        unit("network = net", EXAMPLE_2.replace('"x1"', "1")),
        "an example's names are strings",
        "example 'e'",
    ),
    (
        "state_rows",
        RNN.replace('net.let("h", tanh(a))', 'net.let("h", V * tanh(a))'),
        "the state 'h' is n×m",
        "spec.py:12",
    ),
    (
        "state_never_updated",
        RNN.replace('net.let("h", tanh(a))', 'net.let("g", tanh(a))'),
        "never updated",
        "spec.py:8",
    ),
]

SPEC_COMMANDS = {  # the command each spec case runs (derive by default)
    "no_loss": ["handout", "{spec}", "-o", "h.tex"],
    "no_cost": ["generate", "{spec}", "-o", "m.py"],
    "mlp_relu_out": ["handout", "{spec}", "-o", "h.tex"],
    "mlp_identity_hidden": ["generate", "{spec}", "-o", "m.py"],
    "matrix_loss": ["handout", "{spec}", "-o", "h.html"],
    "generated_np": ["generate", "{spec}", "-o", "m.py"],
    "nfkc": ["generate", "{spec}", "-o", "m.py"],
    "exit": ["verify", "{spec}", "--wrt", "w1", "--claim", "x1"],
    "prints": ["derive", "{spec}", "--json"],
    "dims_latex": ["handout", "{spec}", "-o", "d.tex", "--pdf"],
    "doc_surrogate_html": ["handout", "{spec}", "-o", "h.html"],
    "doc_surrogate_ipynb": ["handout", "{spec}", "-o", "h.ipynb"],
    "doc_surrogate_json": ["derive", "{spec}", "--json"],
    "doc_set_after": ["handout", "{spec}", "-o", "h.html"],
    "os_write_json": ["derive", "{spec}", "--json"],
    "os_exit_0_generate": ["generate", "{spec}", "-o", "m.py"],
    "value_nan": ["handout", "{spec}", "-o", "h.tex"],
    "value_nan_json": ["derive", "{spec}", "--json"],
    "example_int_title": ["generate", "{spec}", "-o", "m.py"],
    "example_int_title_handout": ["handout", "{spec}", "-o", "h.tex"],
    "example_nan_generate": ["generate", "{spec}", "-o", "m.py"],
    "example_inf_generate": ["generate", "{spec}", "-o", "m.py"],
}

EXAMPLE = 'net.examples["e"] = {"x1": 0.5, "x2": 1.0, "y": 1.0, "w1": 0.1, "w2": 0.2, "b": 0.0}\nnetwork = net'
EXAMPLES = [  # (id, example line, problem, place): the worked example of a handout
    ("example_nan", EXAMPLE.replace("0.5", "float('nan')"), "the value of 'x1' must be a finite number", "example 'e'"),
    ("example_inf", EXAMPLE.replace("0.2", "float('inf')"), "the value of 'w2' must be a finite number", "example 'e'"),
    ("example_text", EXAMPLE.replace("0.2", "'a'"), "the value of 'w2' must be a finite number", "example 'e'"),
    ("example_missing", EXAMPLE.replace(', "b": 0.0', ""), "no value for 'b'", "example 'e'"),
    ("example_unknown", EXAMPLE.replace('"b": 0.0', '"b": 0.0, "q": 1'), "'q' is not an input", "example 'e'"),
    ("example_not_dict", 'net.examples["e"] = [1, 2]\nnetwork = net', "an example is a dict", "example 'e'"),
]

# ---------------------------------------------------------------- CLI arguments: (id, argv, problem, place)
CLI = [
    ("wrt_unknown", ["derive", "xor", "--wrt", "nosuch"], "unknown name 'nosuch'", "--wrt"),
    ("catalogue_unknown", ["derive", "no_such_net"], "unknown network 'no_such_net'", "catalogue"),
    ("spec_missing", ["derive", "missing.py"], "no such spec file 'missing.py'", "missing.py"),
    ("spec_folder", ["derive", "afolder/"], "no such spec file", "afolder"),
    ("handout_suffix", ["handout", "xor", "-o", "x.txt"], "the output name must end in .tex", "-o"),
    (
        "lr_nan",
        ["handout", "xor", "-o", "h.tex", "--learning-rate", "nan"],
        "positive finite number, got nan",
        "--learning-rate",
    ),
    (
        "lr_inf",
        ["handout", "xor", "-o", "h.tex", "--optimizer", "momentum", "--learning-rate", "inf"],
        "got inf",
        "--learning-rate",
    ),
    ("lr_negative", ["handout", "xor", "-o", "h.tex", "--learning-rate=-1"], "got -1.0", "--learning-rate"),
    ("lr_zero", ["handout", "xor", "-o", "h.tex", "--learning-rate", "0"], "got 0.0", "--learning-rate"),
    (
        "digits_zero",
        ["handout", "xor", "-o", "h.tex", "--digits", "0"],
        "significant digits must be 1 to 15",
        "--digits",
    ),
    (
        "digits_large",
        ["handout", "xor", "-o", "h.tex", "--digits", "99"],
        "significant digits must be 1 to 15",
        "--digits",
    ),
    ("omit_unknown", ["handout", "xor", "-o", "h.tex", "--omit", "nosection"], "unknown section 'nosection'", "--omit"),
    (
        "example_unknown_arg",
        ["handout", "xor", "-o", "h.tex", "--example", "nosuch"],
        "no example 'nosuch'",
        "--example",
    ),
    ("pdf_html", ["handout", "xor", "-o", "h.html", "--pdf"], "--pdf compiles a .tex handout", "--pdf"),
    ("slides_html", ["handout", "xor", "-o", "h.html", "--slides"], "--slides writes Beamer LaTeX", "-o"),
    ("generate_suffix", ["generate", "xor", "-o", "m.txt"], "the output must be a .py file", "m.txt"),
    ("generate_module_name", ["generate", "xor", "-o", "1bad.py"], "'1bad' is not a valid module name", "1bad.py"),
    ("generate_dash", ["generate", "xor", "-o", "my-mod.py"], "'my-mod' is not a valid module name", "my-mod.py"),
    ("evaluate_digits", ["evaluate", "xor", "--at", "point.txt", "--digits", "0"], "significant digits", "--digits"),
    ("evaluate_missing", ["evaluate", "xor", "--at", "nofile.txt"], "nofile.txt", "nofile.txt"),
    ("evaluate_nan", ["evaluate", "two_layer_sigmoid", "--at", "nan_point.txt"], "nan", "nan_point.txt"),
    ("evaluate_unknown", ["evaluate", "two_layer_sigmoid", "--at", "unknown_point.txt"], "q9", "unknown_point.txt"),
    ("nlp_unknown", ["nlp", "generate", "nosuch", "-o", "m.py"], "nosuch", ""),
    ("nlp_suffix", ["nlp", "generate", "sentiment_features", "-o", "m.txt"], "must be a .py file", "m.txt"),
    ("verify_no_wrt", ["verify", "xor", "--claim", "w1"], "say which gradient the claim is for (--wrt W11", "--claim"),
    ("verify_wrt_unknown", ["verify", "xor", "--wrt", "nosuch", "--claim", "w1"], "nosuch", "--claim"),
    ("verify_sheet_missing", ["verify", "xor", "--claims", "nosheet.txt"], "nosheet.txt", "nosheet.txt"),
    ("verify_steps_missing", ["verify", "xor", "--steps", "nosteps.txt"], "nosteps.txt", "nosteps.txt"),
    ("verify_sheet_empty", ["verify", "xor", "--claims", "empty.txt"], "empty.txt", "empty.txt"),
    ("argparse_command", ["frobnicate"], "invalid choice: 'frobnicate'", "argument COMMAND"),
    ("argparse_seed", ["handout", "xor", "--seed", "abc"], "invalid int value: 'abc'", "--seed"),
    ("argparse_missing_o", ["generate", "xor"], "the following arguments are required: -o/--output", "generate"),
    (
        "argparse_two_claims",
        ["verify", "xor", "--claim", "w1", "--latex", "w_1"],
        "not allowed with argument",
        "--latex",
    ),
    ("argparse_no_claim", ["verify", "xor", "--wrt", "w1"], "one of the arguments", "verify"),
    # typos: did you mean (issue 24)
    ("catalogue_typo", ["derive", "mpl"], "did you mean 'residual_mlp'", "unknown network 'mpl'"),
    ("wrt_typo", ["derive", "two_layer_sigmoid", "--wrt", "w11"], "did you mean 'W11' or 'w1'?", "--wrt"),
    ("option_typo", ["derive", "xor", "--jsno"], "did you mean '--json'?", "unrecognized arguments"),
    ("command_typo", ["dervie", "xor"], "did you mean 'derive'?", "argument COMMAND"),
    ("choice_typo", ["handout", "xor", "--optimizer", "adm"], "did you mean 'adam'?", "argument --optimizer"),
    ("sheet_typo", ["verify", "xor", "--claims", "mistakse"], "did you mean 'mistakes'", "no such claims file"),
    ("expand_typo", ["handout", "xor", "-o", "h.tex", "--expand", "w11"], "did you mean 'W11'", "--expand"),
    # point files that gave tracebacks, or passed when they should not (issue 24)
    ("evaluate_deep_json", ["evaluate", "xor", "--at", "deep.json"], "nested too deeply", "deep.json"),
    ("evaluate_huge_int", ["evaluate", "xor", "--at", "huge.json"], "beyond the float range", "huge.json"),
    ("evaluate_duplicate_json", ["evaluate", "xor", "--at", "twice.json"], "'x1' is given twice", "twice.json"),
    ("evaluate_json_nan", ["evaluate", "xor", "--at", "nan.json"], "NaN is not a number JSON has", "nan.json"),
    ("evaluate_json_object", ["evaluate", "xor", "--at", "nested.json"], "not a number but an object", "nested.json"),
]

# ---------------------------------------------------------------- claims, as text and as LaTeX
CLAIMS = [
    ("import", "__import__('os').system('touch pwned')"),
    ("open", "open('pwned', 'w')"),
    ("dunder", "x1.__class__"),
    ("lambda", "(lambda: 1)()"),
    ("syntax", "((w1"),
    ("unknown_name", "foo * w1"),
    ("empty", ""),
    ("blank", "   "),
    ("tower", "9**9**9"),
    ("subscript", "x1[0]"),
    ("string", "'a' * 3"),
    ("unknown_function", "gamma(x1)"),
    ("deep", "(" * 500 + "x1" + ")" * 500),
    ("long", "+".join(["x1"] * 30000)),
    ("semicolon", "x1; x2"),
    ("walrus", "(q := x1)"),
    ("comparison", "x1 < x2 < a1"),  # one comparison is a 0/1 mask (Z1 > 0); a chain is refused
    ("keyword_arg", "sigmoid(z=x1)"),
    ("nul", "x1\x00"),
    ("control", "x1\x1b[2J"),
    ("sum_t_thrice", "Σ_t Σ_t Σ_t x1"),
]
LATEX_CLAIMS = [
    ("input", r"\input{/etc/passwd}"),
    ("write18", r"\write18{touch pwned}"),
    ("def", r"\def\x{1} \x"),
    ("unbalanced", r"\frac{a_1}{"),
    ("unknown_command", r"\foo{x_1}"),
    ("empty", ""),
    ("dollars", "$$"),
    ("unknown_partial", r"\frac{\partial L}{\partial q_9} = x_1"),
    ("catcode", r"\catcode`\^=12 x_1"),
    ("too_long", "x_1 + " * 3000 + "x_1"),
]

# ---------------------------------------------------------------- output paths
PATHS = [
    ("generate_folder", ["generate", "xor", "-o", "afolder.py"], "is a folder, not a file", "afolder.py"),
    ("generate_under_file", ["generate", "xor", "-o", "afile/m.py"], "is a file, not a folder", "afile/m.py"),
    (
        "generate_under_file_deep",
        ["generate", "xor", "-o", "afile/deeper/m.py"],
        "is a file, not a folder",
        "afile/deeper/m.py",
    ),
    ("handout_under_file", ["handout", "xor", "-o", "afile/h.tex"], "is a file, not a folder", "afile/h.tex"),
    ("handout_folder", ["handout", "xor", "-o", "afolder.tex"], "is a folder, not a file", "afolder.tex"),
    ("html_under_file", ["handout", "xor", "-o", "afile/h.html"], "is a file, not a folder", "afile/h.html"),
    ("notebook_folder", ["handout", "xor", "-o", "afolder.ipynb"], "is a folder, not a file", "afolder.ipynb"),
    (
        "slides_under_file",
        ["handout", "xor", "-o", "afile/s.tex", "--slides"],
        "is a file, not a folder",
        "afile/s.tex",
    ),
    ("demo_file", ["demo", "-o", "afile"], "is a file, not a folder", "afile"),
    ("demo_under_file", ["demo", "-o", "afile/d"], "is a file, not a folder", "afile/d"),
    ("demo_no_jobs", ["demo", "-j", "0", "-o", "d"], "the number of jobs must be at least 1", "--jobs"),
    ("demo_jobs_word", ["demo", "--jobs", "many", "-o", "d"], "invalid int value: 'many'", "--jobs"),
    (
        "nlp_under_file",
        ["nlp", "generate", "sentiment_features", "-o", "afile/m.py"],
        "is a file, not a folder",
        "afile/m.py",
    ),
    (
        "nlp_folder",
        ["nlp", "generate", "sentiment_features", "-o", "afolder.py"],
        "is a folder, not a file",
        "afolder.py",
    ),
    ("generate_test_folder", ["generate", "xor", "-o", "m2.py"], "is a folder, not a file", "test_m2.py"),
    ("generate_edited", ["generate", "xor", "-o", "edited.py"], "refusing to overwrite", "edited.py"),
    ("handout_edited", ["handout", "xor", "-o", "edited.tex"], "refusing to overwrite", "edited.tex"),
    ("html_edited", ["handout", "xor", "-o", "edited.html"], "refusing to overwrite", "edited.html"),
    ("notebook_edited", ["handout", "xor", "-o", "edited.ipynb"], "refusing to overwrite", "edited.ipynb"),
    ("html_mine", ["handout", "xor", "-o", "mine.html"], "it was not generated by chainrule", "mine.html"),
]


def setup_folder(folder: Path) -> None:
    """The files some cases read or must not disturb."""
    (folder / "afile").write_text("a file, not a folder\n", encoding="utf-8")
    (folder / "afolder").mkdir()
    for name in ("afolder.py", "afolder.tex", "afolder.ipynb", "test_m2.py"):
        (folder / name).mkdir()
    for name in ("edited.py", "test_edited.py", "edited.tex", "edited.html", "mine.html"):
        (folder / name).write_text("written by hand\n", encoding="utf-8")
    stamp = "chainrule: generated file, sha256 " + "1" * 64  # a stamp whose hash is not the file's: edited
    (folder / "edited.ipynb").write_text('{"metadata": {"generator": "' + stamp + '"}}\n', encoding="utf-8")
    (folder / "deep.json").write_text("[" * 100_000, encoding="utf-8")
    (folder / "huge.json").write_text('{"x1": 1' + "0" * 400 + "}", encoding="utf-8")
    (folder / "twice.json").write_text('{"x1": 1, "x1": 2}', encoding="utf-8")
    (folder / "nan.json").write_text('{"x1": NaN}', encoding="utf-8")
    (folder / "nested.json").write_text('{"x1": {"a": 1}}', encoding="utf-8")
    (folder / "point.txt").write_text("x1 = 1\n", encoding="utf-8")
    (folder / "nan_point.txt").write_text("x1 = nan\n", encoding="utf-8")
    (folder / "unknown_point.txt").write_text("q9 = 1\n", encoding="utf-8")
    (folder / "empty.txt").write_text("\n", encoding="utf-8")


def run(argv, folder: Path, capsys) -> tuple[int, str, str, float]:
    before = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    start = time.monotonic()
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse's own errors
        status = exc.code
    elapsed = time.monotonic() - start
    out, err = capsys.readouterr()
    after = sorted(p.relative_to(folder) for p in folder.rglob("*"))
    assert after == before, f"files left behind: {sorted(set(after) - set(before))}"
    return status, out, err, elapsed


def check(status, out, err, elapsed, problem: str, place: str, as_json: bool = False) -> None:
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if "error:" in line]
    assert len(errors) == 1, err
    line = errors[0]
    assert status == 2, (status, err)
    if as_json:  # with --json the error is also a JSON object on stdout
        error = json.loads(out)["error"]
        assert error["status"] == 2 and error["message"] in line and (error["place"] or "") in line
    else:
        assert out == "", out[:500]
    assert problem in line, line
    assert place in line, line
    assert elapsed < SECONDS, f"{elapsed:.1f} s"
    assert len(line) < 1000


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CHAINRULE_SPEC_SECONDS", "1")
    setup_folder(tmp_path)
    return tmp_path


@pytest.mark.parametrize(("case", "text", "problem", "place"), SPECS, ids=[c[0] for c in SPECS])
def test_spec_file(folder, capsys, case, text, problem, place):
    (folder / "spec.py").write_text(text, encoding="utf-8")
    argv = [a.replace("{spec}", "spec.py") for a in SPEC_COMMANDS.get(case, ["derive", "{spec}"])]
    check(*run(argv, folder, capsys), problem, place, as_json="--json" in argv)


@pytest.mark.parametrize(("case", "line", "problem", "place"), EXAMPLES, ids=[c[0] for c in EXAMPLES])
def test_worked_example(folder, capsys, case, line, problem, place):
    (folder / "spec.py").write_text(unit("network = net", line), encoding="utf-8")
    check(*run(["handout", "spec.py", "-o", "h.tex"], folder, capsys), problem, place)


@pytest.mark.parametrize(("case", "argv", "problem", "place"), CLI, ids=[c[0] for c in CLI])
def test_command_line(folder, capsys, case, argv, problem, place):
    check(*run(argv, folder, capsys), problem, place, as_json="--json" in argv)


@pytest.mark.parametrize(("case", "claim"), CLAIMS, ids=[c[0] for c in CLAIMS])
def test_claim(folder, capsys, case, claim):
    status, out, err, elapsed = run(["verify", "two_layer_sigmoid", "--wrt", "W11", f"--claim={claim}"], folder, capsys)
    check(status, out, err, elapsed, "", "--claim")
    assert not (folder / "pwned").exists()


@pytest.mark.parametrize(("case", "claim"), LATEX_CLAIMS, ids=[c[0] for c in LATEX_CLAIMS])
def test_latex_claim(folder, capsys, case, claim):
    status, out, err, elapsed = run(["verify", "two_layer_sigmoid", "--wrt", "W11", f"--latex={claim}"], folder, capsys)
    check(status, out, err, elapsed, "", "--latex")
    assert not (folder / "pwned").exists()


@pytest.mark.parametrize(("case", "argv", "problem", "place"), PATHS, ids=[c[0] for c in PATHS])
def test_output_path(folder, capsys, case, argv, problem, place):
    check(*run(argv, folder, capsys), problem, place)


def test_the_catalogue_has_at_least_100_cases():
    assert len(SPECS) + len(EXAMPLES) + len(CLI) + len(CLAIMS) + len(LATEX_CLAIMS) + len(PATHS) >= 100
