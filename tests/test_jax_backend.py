"""The JAX backend (``chainrule generate SPEC --backend jax``), on JAX's CPU build.

* Every form the JAX printer installs (each record's NumPy form and helpers read as jax.numpy, each stanza's
  own JAX helper) computes what the NumPy form computes.
* Every catalogue network (and every program of docs/examples) generates a JAX module whose derived
  gradients, cost, output (and Hessian-vector product and Hessian, where the module has them) agree with the
  NumPy module's to 1e-12 in float64 on the same parameters and data, and whose gradients agree with jax.grad
  of its own cost (an engine independent of chainrule's); no helper lacks a JAX form.
* The generated tests of a module of each kind (dropout, batch statistics, a recurrence over word indices,
  a batched sequence model, word-index inputs stacked as the rows of X with word2vec's data section, a
  convolution with max pooling and its image data section, Newton's method with the Hessian) pass, and a
  sharded run on two host devices trains as one device does.

JAX is installed by the test extras (scripts/setup.sh): imported here, never skipped.  Each network's checks
are one jit-compiled function (one compilation per network).
"""

import os
import subprocess
import sys
import textwrap
import types
from pathlib import Path
from xml.etree import ElementTree

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from codegen.cli import main
from codegen.emit import nlp_module
from codegen.emit.backends import JAX, NUMPY
from codegen.emit.load import load_file, module_source
from codegen.render.jax_matrix import HELPERS as JAX_HELPERS
from codegen.render.jax_matrix import NO_JAX_FORM, to_jax
from codegen.render.numpy_helpers import HELPERS, helper_source
from derive.catalogue import load_spec
from derive.ops import records

jax.config.update("jax_enable_x64", True)

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = sorted(p.stem for p in (ROOT / "generated").glob("*.py") if not p.stem.startswith("test_"))
EXAMPLES = sorted(p.stem for p in (ROOT / "docs" / "examples").glob("*.py"))
# read now, before JAX starts its threads: a spec file runs in a forked process (derive.spec), and a fork after
# JAX's threads have started may deadlock (JAX warns of it)
DECLARATIONS = {name: load_spec(str(ROOT / "docs" / "examples" / f"{name}.py")) for name in EXAMPLES}
REL = 1e-12


# ------------------------------------------------------------------ forms
def evaluate(form: str, table: dict, module, **arrays):
    """``form`` evaluated with the helpers it calls from ``table`` (NumPy's or JAX's), as a generated module has them."""
    namespace = {"np": np, "jnp": jnp}
    exec(helper_source([n for n in table if f"{n}(" in form], table), namespace)  # noqa: S102 (our own helpers)
    return np.asarray(eval(form, {**namespace, **arrays}), dtype=np.float64)


def both(form: str, **arrays):
    """(NumPy's value, JAX's value) of a NumPy form."""
    return evaluate(form, HELPERS, np, **arrays), evaluate(to_jax(form), JAX_HELPERS, jnp, **arrays)


@pytest.mark.parametrize("record", [r for r in records() if r.kind != "loss"], ids=lambda r: r.name)
def test_every_activations_jax_form_computes_its_numpy_form(record):
    z = np.random.default_rng(0).uniform(-3, 3, (4, 5))
    for form in {record.numpy_matrix, record.numpy}:
        ours, want = both(form.format("z", rest="z", k0=0), z=z)
        np.testing.assert_allclose(ours, want, rtol=REL, atol=1e-15, err_msg=form)


@pytest.mark.parametrize("record", [r for r in records() if r.kind == "loss"], ids=lambda r: r.name)
def test_every_losss_jax_form_computes_its_numpy_form(record):
    rng = np.random.default_rng(1)
    Z = rng.uniform(-3, 3, (3, 5))
    A = np.exp(Z) / np.exp(Z).sum(axis=0) if record.task == "multiclass" else 1 / (1 + np.exp(-Z))
    Y = np.eye(3)[:, rng.integers(0, 3, 5)] if record.task == "multiclass" else rng.integers(0, 2, (3, 5)) * 1.0
    forms = [record.numpy_matrix.format("A", "Y", yhats="A", ys="Y")]
    if record.numpy_logits:
        forms.append(record.numpy_logits.format("Z", "Y", z="Z", zs="Z", ys="Y"))
    for form in forms:
        ours, want = both(form, A=A, Y=Y, Z=Z)
        np.testing.assert_allclose(ours, want, rtol=REL, err_msg=form)


def _words(rng, n, m, vocabulary=7):
    W = rng.integers(0, vocabulary, (n, m))
    W[0, 0] = 0  # padding
    return W


# the ops' helpers on inputs of their shapes: n = 3 positions of d = 2 rows, m = 4 columns, |V| = 7
OP_CASES = {
    "embed": lambda rng: {"E": rng.standard_normal((2, 7)), "W": _words(rng, 3, 4)},
    "scatter_add": lambda rng: {"G": rng.standard_normal((6, 4)), "W": _words(rng, 3, 4), "V": 7},
    "pool_mean": lambda rng: {"Q": rng.standard_normal((6, 4)), "W": _words(rng, 3, 4)},
    "pool_max": lambda rng: {"Q": rng.standard_normal((6, 4)), "W": _words(rng, 3, 4)},
    "route_max": lambda rng: {
        "G": rng.standard_normal((2, 4)),
        "Q": rng.standard_normal((6, 4)),
        "W": _words(rng, 3, 4),
    },
    "spread_mean": lambda rng: {"G": rng.standard_normal((2, 4)), "W": _words(rng, 3, 4)},
    "dots": lambda rng: {"Q": rng.standard_normal((6, 4)), "v": rng.standard_normal((2, 4))},
    "dots_mix": lambda rng: {"G": rng.standard_normal((3, 4)), "Q": rng.standard_normal((6, 4))},
    "dots_outer": lambda rng: {"G": rng.standard_normal((3, 4)), "v": rng.standard_normal((2, 4))},
    "causal_mask": lambda rng: {"S": rng.standard_normal((2, 5, 5))},
    "softmax_rows": lambda rng: {"S": np.where(np.tri(5, dtype=bool), rng.standard_normal((2, 5, 5)), -np.inf)},
    "per_sequence": lambda rng: {"Q": rng.standard_normal((10, 3)), "T": 5},
    "to_columns": lambda rng: {"Q": rng.standard_normal((5, 3, 2))},
    "from_columns": lambda rng: {"Q": rng.standard_normal((3, 10)), "T": 5},
}
# the image ops' helpers: C = 2 channels of 5×4 images, m = 3, 3×2 windows with stride 2 and padding 1 (windows
# overlap and run over the padding), 2×2 pooling with stride 1 (overlapping windows) and stride 2; Q has ties
_IMAGE = {"C": 2, "H": 5, "W": 4}
_CONV = {**_IMAGE, "HH": 3, "WW": 2, "stride": 2, "pad": 1}  # H' = 3, W' = 3


def _tied(rng):
    return rng.integers(0, 3, (40, 3)).astype(float)  # entries from {0, 1, 2}: most windows have ties


OP_CASES |= {
    "im2col": lambda rng: {"X": rng.standard_normal((40, 3)), **_CONV},
    "col2im": lambda rng: {"G": rng.standard_normal((2 * 3 * 2 * 3 * 3, 3)), **_CONV},
    "max_pool": lambda rng: {"Q": _tied(rng), **_IMAGE, "size": 2, "stride": 1},
    "avg_pool": lambda rng: {"Q": rng.standard_normal((40, 3)), **_IMAGE, "size": 2, "stride": 2},
    "window_argmax": lambda rng: {"Q": _tied(rng), **_IMAGE, "size": 2, "stride": 1},
    "unpool_max": lambda rng: {
        "G": rng.standard_normal((2 * 4 * 3, 3)),
        "Q": _tied(rng),
        **_IMAGE,
        "size": 2,
        "stride": 1,
    },
    "unpool_avg": lambda rng: {"G": rng.standard_normal((2 * 2 * 2, 3)), **_IMAGE, "size": 2, "stride": 2},
}


@pytest.mark.parametrize("name", sorted(OP_CASES))
def test_every_ops_jax_helper_computes_its_numpy_helper(name):
    arrays = OP_CASES[name](np.random.default_rng(2))
    call = f"{name}({', '.join(arrays)})"
    ours, want = both(call, **arrays)
    np.testing.assert_allclose(ours, want, rtol=REL, err_msg=call)


def test_the_jax_helpers_write_nothing_in_place():
    assert not [n for n, source in JAX_HELPERS.items() if ".at(" in source or "out=" in source or "[...] =" in source]


def test_every_helper_that_writes_in_place_under_numpy_has_a_jax_form():
    """An op whose NumPy helper writes in place (im2col, np.add.at, out=) and whose stanza gives no JAX form would
    leave its programs without a JAX module: there is none (the image ops' and the text ops' are in their stanzas)."""
    assert not NO_JAX_FORM


# ------------------------------------------------------------------ modules
@pytest.fixture(scope="module")
def jax_folder(tmp_path_factory):
    """Where this file's tests write the JAX modules they generate (checked by ruff at the end)."""
    return tmp_path_factory.mktemp("jax_modules")


def jax_text(name: str, declaration=None) -> str:
    """The JAX module of a catalogue network (or NLP variant), or of an example program's declaration."""
    if declaration is not None:
        return module_source(declaration, f"{name}.py", JAX)
    if name in nlp_module.MODULES:
        return nlp_module.module_text(name, JAX)
    return module_source(load_spec(name), name, JAX)


def jax_module(name: str, folder: Path) -> tuple[types.ModuleType, types.ModuleType]:
    """(the NumPy module, the JAX module) of a catalogue network (its golden NumPy module) or an example program."""
    if name in GOLDEN:
        numpy_mod = load_file(ROOT / "generated" / f"{name}.py", f"numpy_{name}")
        text = jax_text(name)
    else:
        declaration = DECLARATIONS[name]
        numpy_mod = _run(module_source(declaration, f"{name}.py", NUMPY), folder / f"numpy_{name}.py")
        text = jax_text(name, declaration)
    return numpy_mod, _run(text, folder / f"jax_{name}.py")


def _run(text: str, path: Path) -> types.ModuleType:
    path.write_text(text, encoding="utf-8")
    return load_file(path)


def _batch(mod):
    """A few examples of the module's demo data (2 sequences of a sequence model), and a smooth point."""
    X, Y = mod.demo_data(seed=0)
    m = 2 if np.ndim(X) >= 2 and Y.ndim == 3 else 6
    rng = np.random.default_rng(0)
    start = mod.init_params(seed=0, dtype=np.float64)
    params = {k: p + 0.3 * rng.standard_normal(p.shape) if k in mod.PARAMS else p for k, p in start.items()}
    return X[..., :m], Y[..., :m], params


def _relative(ours, want) -> float:
    ours, want = np.asarray(ours, dtype=np.float64), np.asarray(want, dtype=np.float64)
    return float(np.linalg.norm(ours - want) / max(np.linalg.norm(ours) + np.linalg.norm(want), 1e-300))


@pytest.mark.parametrize("name", GOLDEN + EXAMPLES)
def test_the_jax_module_agrees_with_the_numpy_module_and_with_jax_grad(name, jax_folder):
    numpy_mod, jax_mod = jax_module(name, jax_folder)
    X, Y, params = _batch(numpy_mod)
    keep = {k: 1.0 for k in jax_mod.CONSTS if k.startswith("keep")} if hasattr(jax_mod, "CONSTS") else {}
    consts = {**getattr(jax_mod, "CONSTS", {}), **keep}  # dropout keeps every unit: both modules' masks are all 1
    key = jax.random.key(0)
    Xj, Yj = jax_mod._arrays(params, *jax_mod.check_data(X, Y))
    rng = np.random.default_rng(1)
    V = {p: rng.standard_normal(np.shape(params[p])) for p in numpy_mod.PARAMS}  # a direction, for H V
    assert hasattr(jax_mod, "hvp") == hasattr(numpy_mod, "hvp")

    @jax.jit
    def everything(p):
        derived, _ = jax_mod._gradients(p, Xj, Yj, key, consts)
        automatic = jax.grad(lambda q: jax_mod._loss(q, Xj, Yj, key, consts, train=True))(p)
        hv = jax_mod._hvp(p, Xj, Yj, V, key, consts) if hasattr(jax_mod, "hvp") else None
        cost = jax_mod._loss(p, Xj, Yj, key, consts, train=True)
        return derived, automatic, hv, cost, jax_mod._forward(p, Xj, consts)

    derived, automatic, hv, cost, output = everything({k: jnp.asarray(v) for k, v in params.items()})
    want = numpy_mod.gradients(params, X, Y, **keep)
    assert float(cost) == pytest.approx(numpy_mod.loss(params, X, Y, train=True, **keep), rel=REL)
    assert _relative(output, numpy_mod.forward(params, X)) <= REL
    for p in numpy_mod.PARAMS:
        assert _relative(derived[p], want[p]) <= REL, f"{name}: ∂J/∂{p} differs from the NumPy module's"
        assert _relative(derived[p], automatic[p]) <= 1e-10, f"{name}: ∂J/∂{p} differs from jax.grad"
    if hv is not None:
        want = numpy_mod.hvp(params, X, Y, V, **keep)
        for p in numpy_mod.PARAMS:
            assert _relative(hv[p], want[p]) <= REL, f"{name}: (H V) for {p} differs from the NumPy module's"
    assert hasattr(jax_mod, "hessian") == hasattr(numpy_mod, "hessian")
    if hasattr(numpy_mod, "hessian"):
        assert _relative(jax_mod.hessian(params, X, Y), numpy_mod.hessian(params, X, Y)) <= REL, f"{name}: H differs"


GENERATED_TESTS = [
    "dropout_mlp",
    "batchnorm_mlp",
    "rnn_lm",
    "transformer_block",
    "word2vec_negative",
    "conv_net",
    "newton_logistic",
]


@pytest.fixture(scope="module")
def generated_jax_tests(tmp_path_factory):
    """GENERATED_TESTS' JAX modules and test files, written as ``chainrule generate NAME --backend jax -o NAME.py``
    writes them (the CLI, in this process), run by one pytest (one process: JAX imported once): ({test file: tests
    run}, {test file: tests failed}, pytest's output)."""
    folder = tmp_path_factory.mktemp("generated_jax")
    for name in GENERATED_TESTS:
        assert main(["generate", name, "--backend", "jax", "-o", str(folder / f"{name}.py")]) == 0
    report = folder / "report.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={report}", "."],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
        cwd=folder,
    )
    if not report.exists():
        pytest.fail(f"the generated JAX tests did not run: {run.stdout[-3000:]} {run.stderr[-3000:]}")
    failed: dict[str, list[str]] = {f"test_{name}.py": [] for name in GENERATED_TESTS}
    ran: dict[str, int] = dict.fromkeys(failed, 0)
    for case in ElementTree.parse(report).iter("testcase"):
        file = case.get("classname", "").split(".")[-1] + ".py"
        ran[file] = ran.get(file, 0) + 1
        if case.find("failure") is not None or case.find("error") is not None:
            failed.setdefault(file, []).append(case.get("name"))
    return ran, failed, run.stdout[-3000:]


@pytest.mark.parametrize("name", GENERATED_TESTS)
def test_the_generated_jax_tests_pass(name, generated_jax_tests):
    ran, failed, output = generated_jax_tests
    assert ran[f"test_{name}.py"] > 5 and not failed[f"test_{name}.py"], output


def test_a_sharded_run_on_two_devices_trains_as_one_device_does(tmp_path):
    assert main(["generate", "dropout_mlp", "--backend", "jax", "--no-tests", "-o", str(tmp_path / "mlp.py")]) == 0
    script = textwrap.dedent(
        """
        import jax
        jax.config.update("jax_enable_x64", True)
        import numpy as np
        import mlp

        assert len(jax.devices()) == 2, jax.devices()
        X, Y = mlp.demo_data(seed=0)
        X, Y = X[:, :64], Y[:, :64]
        place, _, n = mlp.data_parallel()
        assert n == 2 and len(place(X).addressable_shards) == 2  # each device holds half the examples
        _, one = mlp.train(X, Y, epochs=3, lr=0.05, batch_size=16, seed=0)
        _, two = mlp.train(X, Y, epochs=3, lr=0.05, batch_size=16, seed=0, shard=True)
        np.testing.assert_allclose(two, one, rtol=1e-12)
        try:
            mlp.train(X, Y, epochs=1, lr=0.05, batch_size=15, shard=True)
        except ValueError as exc:
            assert "multiples of 2" in str(exc)
        else:
            raise AssertionError("an odd batch was split across 2 devices")
        print("sharded ok")
        """
    )
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=2", "JAX_PLATFORMS": "cpu"}
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False
    )
    assert run.returncode == 0 and "sharded ok" in run.stdout, run.stderr[-3000:]


def test_every_jax_module_is_ruff_clean(jax_folder):
    """ruff's default rules, isolated from any configuration (as a user's own ruff would run), on every JAX module
    generated above (those a run of this test alone did not generate, it generates)."""
    for name in GOLDEN + EXAMPLES:
        if not (jax_folder / f"jax_{name}.py").exists():
            declaration = DECLARATIONS.get(name)
            (jax_folder / f"jax_{name}.py").write_text(jax_text(name, declaration), encoding="utf-8")
    jax_files = sorted(str(p) for p in jax_folder.glob("jax_*.py"))
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--isolated", "--no-cache", *jax_files],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:]
