"""Hostile claims are rejected as bad input, and none of them runs code.

Each claim below would create a file, import a module, run a command or
exhaust memory/CPU if it were evaluated.  The tests assert that reading and
checking it raises ``ClaimError`` (the CLI: exit status 2, one line), that
the sentinel file does not appear, and — with a Python audit hook — that no
code object is executed and no process, import or file open happens while
the claim is read.
"""

from __future__ import annotations

import subprocess
import sys
import time
from typing import ClassVar

import pytest

from derive.catalogue import load
from derive.verify.claims import ClaimError, parse_text
from derive.verify.latex_reader import parse_latex
from derive.verify.vec_target import VecTarget
from derive.verify.vectorised import verify_vector

SENTINEL = "chainrule_pwned_sentinel"

HOSTILE_TEXT = [
    f"__import__('os').system('touch {SENTINEL}')",
    f"__import__('os').system('touch {SENTINEL}') * x1",
    f"open('{SENTINEL}', 'w')",
    f"x1 + open('{SENTINEL}', 'w').write('x')",
    f"(lambda: __import__('os').system('touch {SENTINEL}'))()",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "().__class__.__base__.__subclasses__()",
    "x1.__class__",
    "x1.__class__.__mro__",
    "getattr(x1, '__class__')",
    "eval('1+1')",
    f'exec(\'open("{SENTINEL}", "w")\')',
    "compile('1', 'f', 'eval')",
    "globals()",
    "np.os.system('id')",
    "np.sum.__globals__",
    "np.sum(x1, axis=__import__('os'))",
    "sigmoid.__call__(x1)",
    "sympy.sympify('x')",
    "x1.subs(x1, 2)",
    "9**9**9",
    "9**9**9**9",
    "10**10**10",
    "2**1000000",
    "(9**9)**9",
    "99999999999999999999999999 * x1",
    "1e400",
    "'a' * 10**9",
    "b'bytes'",
    "...",
    "True",
    "None",
    "x1[0]",
    "x1[::-1]",
    "a1 if x1 else a2",
    "(q := 1)",
    f'f\'{{__import__("os").system("touch {SENTINEL}")}}\'',
    "x1; import os",
    "x1\nimport os",
    "import os",
    "x1 and a1",
    "x1 < a1 < x2",  # a chained comparison (one comparison is a 0/1 mask: Z1 > 0)
    "x1 == a1",
    "~x1",
    "x1 // 2",
    "x1 << 2",
    "x1 % 2",
    "{x1: 1}",
    "{x1}",
    "(x1, a1)",
    "*x1",
    "sigmoid(*[x1])",
    "sigmoid(x=x1)",
    "print(x1)",
    "breakpoint()",
    "__builtins__",
    "_",
    "q",
    "x1 +" * 3000 + " x1",
    "(" * 400 + "x1" + ")" * 400,
    "-" * 5000 + "x1",
    "",
    "   ",
]

HOSTILE_LATEX = [
    r"\input{/etc/passwd}",
    rf"\immediate\write18{{touch {SENTINEL}}}",
    r"\def\x{1} \x",
    r"\csname x\endcsname",
    r"2^{9^{9^{9}}}",
    r"x_1^{100}",
    "{" * 300 + "x_1" + "}" * 300,
    r"x_1 + " * 2000,
    r"\frac{\partial}{\partial}",
    r"\sigma",
    r"a^{[1]}_{__import__}",
    r"\text{__import__('os')}",
]


class _Audit:
    """Records audited events while armed (audit hooks cannot be removed, so this one is gated)."""

    armed = False
    events: ClassVar[list[str]] = []
    WATCHED = (
        "exec",
        "os.system",
        "subprocess.Popen",
        "os.exec",
        "os.posix_spawn",
        "os.spawn",
        "os.fork",
        "import",
        "ctypes",
    )

    @classmethod
    def hook(cls, event, args):
        if not cls.armed:
            return
        if event.startswith(cls.WATCHED):
            cls.events.append(event)
        if event == "open" and args and SENTINEL in str(args[0]):
            cls.events.append(f"open {args[0]}")


sys.addaudithook(_Audit.hook)


@pytest.fixture(scope="module")
def derivation():
    d = load("two_layer_sigmoid").derive()
    d.verify("W11", "(yhat - y)*w1*a1*(1 - a1)*x1")  # warm every lazy import before arming the hook
    d.verify("W11", r"(\hat{y}-y) w_1 a_1 (1-a_1) x_1", latex=True)
    return d


@pytest.fixture(scope="module")
def vector():
    target = VecTarget(load("one_hidden_layer"))
    verify_vector(target, "dW1", "(1/m) dZ1 X.T")
    return target


def _nodes(tree):
    yield tree
    if tree[0] not in ("num", "name"):
        for x in tree[1:]:
            if isinstance(x, tuple):
                yield from _nodes(x)


def _no_side_effect(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _Audit.events.clear()


@pytest.mark.parametrize("claim", HOSTILE_TEXT, ids=range(len(HOSTILE_TEXT)))
def test_hostile_text_claim_is_rejected_without_running(claim, derivation, tmp_path, monkeypatch):
    _no_side_effect(tmp_path, monkeypatch)
    start = time.perf_counter()
    _Audit.armed = True
    try:
        try:  # names are checked against the network later: print(x1) reads as the product print·x1
            tree = parse_text(claim)
        except ClaimError:
            tree = None
        assert tree is None or all(node[0] in ("name", "jux", "num") for node in _nodes(tree))
        with pytest.raises(ClaimError):
            derivation.verify("W11", claim)
    finally:
        _Audit.armed = False
    assert time.perf_counter() - start < 5
    assert _Audit.events == []
    assert not (tmp_path / SENTINEL).exists()


@pytest.mark.parametrize("claim", HOSTILE_TEXT[:20], ids=range(20))
def test_hostile_vectorised_claim_is_rejected_without_running(claim, vector, tmp_path, monkeypatch):
    _no_side_effect(tmp_path, monkeypatch)
    _Audit.armed = True
    try:
        with pytest.raises(ClaimError):
            verify_vector(vector, "dW1", claim)
    finally:
        _Audit.armed = False
    assert _Audit.events == []
    assert not (tmp_path / SENTINEL).exists()


@pytest.mark.parametrize("claim", HOSTILE_LATEX, ids=range(len(HOSTILE_LATEX)))
def test_hostile_latex_claim_is_rejected_without_running(claim, derivation, tmp_path, monkeypatch):
    _no_side_effect(tmp_path, monkeypatch)
    _Audit.armed = True
    try:
        with pytest.raises(ClaimError):
            parse_latex(claim, known=lambda n: n in {"x1", "a1"})
        with pytest.raises(ClaimError):
            derivation.verify("W11", claim, latex=True)
    finally:
        _Audit.armed = False
    assert _Audit.events == []
    assert not (tmp_path / SENTINEL).exists()


@pytest.mark.parametrize(
    "claim",
    [f"__import__('os').system('touch {SENTINEL}')", f"open('{SENTINEL}','w')", "9**9**9", "x1.__class__"],
)
def test_cli_rejects_hostile_claim_with_exit_2(claim, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "codegen", "verify", "two_layer_sigmoid", "--wrt", "W11", "--claim", claim],
        check=False,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("chainrule: error: --claim: "), result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / SENTINEL).exists()


def test_the_audit_hook_would_see_code_running(derivation, tmp_path, monkeypatch):
    """The check above can fail: checking a valid claim compiles it with lambdify, and the hook sees that
    (compiled functions are kept per expression, so the cache is emptied first)."""
    from derive.verify.equivalence import numeric_function

    _no_side_effect(tmp_path, monkeypatch)
    numeric_function.cache_clear()
    _Audit.armed = True
    try:
        assert derivation.verify("W21", "(yhat - y)*w1*a1*(1 - a1)*x2").equal
        open(SENTINEL, "w").close()
    finally:
        _Audit.armed = False
    assert "exec" in _Audit.events
    assert any(e.startswith("open") for e in _Audit.events)


TEXT_PIECES = ["x1", "a1", "yhat", "y", "w1", "W11", "z1", "(", ")", "+", "-", "*", "/", "**", "2", "0", "1.5"]
TEXT_PIECES += [
    "sigmoid(",
    "relu(",
    "step(",
    "g'(",
    "exp(",
    "log(",
    ".T",
    "@",
    "np.sum(",
    ",",
    "axis=1",
    "keepdims=True",
]
TEXT_PIECES += ["=", "<-", "alpha", "dW11", "e", " ", "m", "X", "dZ1", "A1", "W2", "ŷ", "·", "²", "'", "__", "."]
LATEX_PIECES = [r"\hat{y}", "y", "w_1", "a_1", "x_1", "z_1", "(", ")", "+", "-", r"\cdot", r"\odot", "^", "{", "}", "2"]
LATEX_PIECES += [r"\frac{", r"\sigma", "g'", "_", "^{[1]}", "^{[2]T}", "^T", r"\partial", "L", "=", "dZ", "X", "W"]
LATEX_PIECES += [
    r"\mathbb{1}[",
    r"\geq",
    "0",
    "]",
    r"\sum_{i=1}^{m}",
    "np.sum(",
    ",",
    "axis=1",
    "m",
    "e",
    r"\leftarrow",
]


def test_random_token_soup_gives_a_verdict_or_bad_input(derivation, vector):
    """Never a traceback: any string is either checked or refused with ClaimError."""
    import random

    rng = random.Random(0)
    for _ in range(300):
        for pieces, latex in ((TEXT_PIECES, False), (LATEX_PIECES, True)):
            claim = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
            for check in (
                lambda c=claim, lx=latex: derivation.verify("W11", c, latex=lx),
                lambda c=claim, lx=latex: verify_vector(vector, "dW1", c, latex=lx),
            ):
                try:
                    check()
                except ClaimError:
                    pass
