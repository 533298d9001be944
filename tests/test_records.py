"""The guard of the op table's function records (derive/ops/record.py): every activation and every loss has every
form the pipeline reads, and those forms agree with each other.

A form left out is a failure here, never a KeyError in a user's run: each record's derivative (scalar, and on
matrices), its reason, its text, LaTeX and NumPy forms, float, mpmath and NumPy numerics, the words a claim may
use, its initialisation and its prose.  Its NumPy forms are stable (finite at |z| = 1000, float32 and float64),
its in-place recipe computes what its plain form does, and its numerics agree with its SymPy definition.
"""

import ast
import pathlib

import mpmath
import numpy as np
import pytest
import sympy as sp

from codegen.render.numpy_helpers import HELPERS, helper_source
from derive.ops import ACTIVATIONS, LOSSES, Apply, matrix_derivative, records
from derive.printing.latex import latex, why_latex
from derive.printing.matrix import matrix_text
from derive.printing.text import text

ELEMENTWISE = [r for r in records("activation") if r.elementwise and not r.is_identity]
POINTS = (-2.3, -0.4, 0.0, 0.7, 1.9)


def numpy_namespace(form: str) -> dict:
    """NumPy and the helper functions ``form`` calls (as a generated module has them)."""
    namespace = {"np": np}
    called = [name for name in HELPERS if f"{name}(" in form]
    exec(helper_source(called), namespace)  # noqa: S102 (the records' own helper sources)
    return namespace


def numpy_value(form: str, z):
    return eval(form.format("z", rest="z", k0=0), {**numpy_namespace(form), "z": z})


@pytest.mark.parametrize("record", records(), ids=lambda r: r.name)
def test_every_record_has_every_form(record):
    assert record.cls is not None and record.cls.record is record
    assert record.name and record.text and record.latex and record.why
    assert why_latex(record.why).isascii()
    assert callable(record.definition) and callable(record.numeric) and callable(record.mpmath)
    assert record.numpy and record.numpy_matrix
    for helper in record.helpers:
        assert helper in HELPERS, (record.name, helper)
    if record.kind == "loss":
        assert record.grad is not None and record.array is not None and record.cost and record.matrix_why
        assert record.task in ("binary", "multiclass", "regression") and record.title and record.prose
        assert record.matched in ACTIVATIONS and record.cancel_why
        return
    assert record.array is not None
    if record.kind == "activation":
        assert record.prose and record.initialisation[0] in ("he", "xavier", "small")
        assert record.derivative is not None or record.partial_rule or record.prime or record.column_vjp


@pytest.mark.parametrize("record", ELEMENTWISE, ids=lambda r: r.name)
def test_derivative_on_matrices_prints_in_text_and_latex(record):
    A, Z = sp.MatrixSymbol("A", 3, 2), sp.MatrixSymbol("Z", 3, 2)
    d = matrix_derivative(record, A, Z)
    assert matrix_text(d) and latex(d)
    assert matrix_text(Apply(record, Z)).endswith("(Z)") or record.form == "indicator"


@pytest.mark.parametrize("record", ELEMENTWISE, ids=lambda r: r.name)
def test_numerics_agree_with_the_definition(record):
    z = sp.Symbol("z")
    exact = sp.lambdify(z, record.definition(z), "mpmath")
    derivative = record.partial(record.cls(z), 0)
    for v in POINTS:
        want = float(exact(mpmath.mpf(v)))
        assert record.numeric(v) == pytest.approx(want, rel=1e-13, abs=1e-15)
        assert float(record.mpmath(mpmath.mpf(v))) == pytest.approx(want, rel=1e-13, abs=1e-15)
        assert float(record.array(np.array([v]))[0]) == pytest.approx(want, rel=1e-13, abs=1e-15)
        assert float(numpy_value(record.numpy_matrix, np.array([v]))[0]) == pytest.approx(want, rel=1e-12, abs=1e-15)
        if v == 0.0 and record.kinks:
            continue  # ReLU'(0) is the lecture's 1, not a limit
        slope = float(sp.diff(record.definition(z), z).subs(z, v).evalf(30))
        assert float(derivative.subs(z, v).evalf(30)) == pytest.approx(slope, rel=1e-12, abs=1e-15)
        assert float(record.array_derivative(np.array([v]))[0]) == pytest.approx(slope, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("record", ELEMENTWISE, ids=lambda r: r.name)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_forms_are_stable_at_a_thousand(record, dtype):
    z = np.array([-1000.0, -30.0, 0.0, 30.0, 1000.0], dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):  # underflow to 0 is fine
        assert np.all(np.isfinite(numpy_value(record.numpy_matrix, z)))
        prime = record.prime
        if prime is not None:
            assert np.all(np.isfinite(numpy_value(prime.record.numpy_matrix, z)))


@pytest.mark.parametrize("record", [r for r in ELEMENTWISE if r.inplace is not None], ids=lambda r: r.name)
def test_in_place_recipes_compute_the_plain_forms(record):
    rng = np.random.default_rng(0)
    Z = rng.normal(0.0, 2.0, (4, 5))
    plain = numpy_value(record.numpy_matrix, Z)
    namespace = {"np": np, "Z": Z.copy(), "buf": np.empty_like(Z)}
    for line in record.inplace.forward:
        exec(line.format(a="A", z="Z", out="buf"), numpy_namespace(line) | namespace, namespace)  # noqa: S102
    np.testing.assert_allclose(namespace["A"], plain, rtol=1e-12)
    q = record.array(Z) if "A" in record.uses else Z  # what g' is written in
    want = record.array_derivative(Z)
    scratch = {"np": np, "Q": q.copy(), "S": np.empty_like(Z)}
    for line in record.inplace.grad_scratch:
        exec(line.format(q="Q", s="S"), scratch)  # noqa: S102
    np.testing.assert_allclose(scratch["S"], want, rtol=1e-12)
    G = rng.normal(0.0, 1.0, Z.shape)
    clobber = {"np": np, "Q": q.copy(), "dA": G.copy(), "buf": np.empty_like(Z)}
    lines = [line.format(dz="dZ", da="dA", q="Q", out="buf") for line in record.inplace.grad_clobber]
    if not record.inplace.clobber_writes_first:
        lines.append("dZ = np.multiply(dA, Q, out=buf)")
    for line in lines:
        exec(line, clobber)  # noqa: S102
    np.testing.assert_allclose(clobber["dZ"], G * want, rtol=1e-12)


@pytest.mark.parametrize("record", list(LOSSES.values()), ids=lambda r: r.name)
def test_loss_numerics_agree(record):
    p, y = np.array([[0.3, 0.6], [0.7, 0.4]]), np.array([[0.0, 1.0], [1.0, 0.0]])
    args = [0.3, 0.7, 0.0, 1.0] if record.form == "pairs" else [0.3, 1.0]
    exact = float(record.definition(*map(sp.Float, args)))
    assert record.numeric(*args) == pytest.approx(exact, rel=1e-13)
    assert float(record.mpmath(*map(mpmath.mpf, args))) == pytest.approx(exact, rel=1e-13)
    total = sum(float(record.definition(*col)) for col in _columns(record, p, y))
    assert record.array(p, y) == pytest.approx(total, rel=1e-13)


def _columns(record, p, y):
    for j in range(p.shape[1]):
        if record.form == "pairs":
            yield [sp.Float(v) for v in (*p[:, j], *y[:, j])]
        else:
            yield from ([sp.Float(a), sp.Float(b)] for a, b in zip(p[:, j], y[:, j], strict=True))


def test_text_names_print_as_the_records_say():
    z = sp.Symbol("z")
    for record in ELEMENTWISE:
        assert text(record.cls(z)).startswith(record.text) or record.form == "indicator"


# ------------------------------------------------------------------ nothing else branches on a function's name
RECORD_HOMES = ("derive/ops/", "derive/catalogue/", "derive/functions.py", "derive/__init__.py")


def _strings(node):
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        for e in node.elts:
            yield from _strings(e)


def test_no_stage_keeps_a_table_of_function_names():
    """Outside the records (and the catalogue, which declares networks by name), no comparison with a function's
    name (``g == "sigmoid"``, ``loss in ("mse", …)``) and no dict keyed by one: every stage reads the record."""
    names = {r.name for r in records()} | {a for r in records() for a in getattr(r, "aliases", ())}
    root = pathlib.Path(__file__).resolve().parent.parent
    found = []
    for package in ("derive", "codegen"):
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            if rel.startswith(RECORD_HOMES):
                continue
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Compare):
                    parts = [node.left, *node.comparators]
                elif isinstance(node, ast.Dict):
                    parts = [k for k in node.keys if k is not None]
                else:
                    continue
                found += [f"{rel}:{node.lineno}: {s!r}" for p in parts for s in _strings(p) if s in names]
    assert not found, "function names used as keys outside the records:\n" + "\n".join(found)
