"""Derived gradients against an independent engine, HIPS autograd, in CI.

autograd is a test dependency (the ``test`` extras of pyproject.toml, installed by
scripts/setup.sh): it is imported, never skipped, so a missing engine fails.
Checked here: every rule of ``derive.functions.RULES`` (each argument's partial),
every per-unit catalogue network (``Derivation.evaluate`` and its generated module
in generated/), and every layer-level module in generated/ (the vectorised one and
the NLP models, E included) and the layer templates' activation/loss pairs.
Each forward pass below is written again with autograd.numpy from the declaration,
not from chainrule's printers.
"""

import functools
from pathlib import Path

import autograd
import autograd.numpy as anp
import numpy as np
import pytest
import sympy as sp
from autograd.misc import flatten

from codegen.emit.load import load_file
from codegen.emit.nlp_module import model as nlp_model
from codegen.emit.nlp_module import names as nlp_names
from derive import gradcheck
from derive.catalogue import load, names
from derive.functions import RULES, BinaryCrossEntropy, CrossEntropy, ReLU, Sigmoid, Softmax, SquaredError, Step, Tanh
from derive.ops.activations.elu import ELU
from derive.ops.activations.gelu import GELU
from derive.ops.activations.leaky_relu import LeakyReLU
from derive.ops.activations.silu import SiLU
from derive.ops.activations.softplus import Softplus

ROOT = Path(__file__).resolve().parent.parent
SCALAR = [n for n in names() if hasattr(load(n), "nodes")]
LAYER = [n for n in names() if not hasattr(load(n), "nodes") and load(n).recurrence is None]
RECURRENT = [n for n in names() if not hasattr(load(n), "nodes") and load(n).recurrence is not None]
GENERATED_SCALAR = [n for n in SCALAR if (ROOT / "generated" / f"{n}.py").exists() and n not in nlp_names()]
REL = 1e-9


def _softmax(k, *zs):
    z = anp.stack(zs)
    e = anp.exp(z - anp.max(z, axis=0))
    return e[int(k) - 1] / anp.sum(e, axis=0)


def _pairs(args):
    k = len(args) // 2
    return zip(args[:k], args[k:])


# Each rule's function, written with autograd.numpy (independent of chainrule's forms).
AUTOGRAD = {
    Sigmoid: lambda z: 1 / (1 + anp.exp(-z)),
    Tanh: anp.tanh,
    ReLU: lambda z: anp.maximum(z, 0.0),
    Step: lambda z: anp.where(z >= 0, 1.0, 0.0),
    Softmax: _softmax,
    BinaryCrossEntropy: lambda yhat, y: -(y * anp.log(yhat) + (1 - y) * anp.log(1 - yhat)),
    CrossEntropy: lambda *a: -sum(y * anp.log(p) for p, y in _pairs(a)),
    SquaredError: lambda *a: 0.5 * sum((p - y) ** 2 for p, y in _pairs(a)),
    Softplus: lambda z: anp.log1p(anp.exp(z)),
    GELU: lambda z: 0.5 * z * (1 + anp.tanh(anp.sqrt(2 / anp.pi) * (z + 0.044715 * z**3))),
    LeakyReLU: lambda z: anp.where(z >= 0, z, 0.01 * z),
    ELU: lambda z: anp.where(z >= 0, z, anp.exp(z) - 1),
    SiLU: lambda z: z / (1 + anp.exp(-z)),
}
for _cls in (GELU, LeakyReLU, ELU, SiLU):  # a derivative that is a function of its own (GELU'): autograd's
    AUTOGRAD[RULES[_cls].prime] = autograd.elementwise_grad(AUTOGRAD[_cls])
for _cls in (GELU, ELU, SiLU):  # and its own derivative, g'' (second order: ELU'', GELU'', SiLU'')
    AUTOGRAD[RULES[RULES[_cls].prime].prime] = autograd.elementwise_grad(AUTOGRAD[RULES[_cls].prime])
# the functions of numbers (not the identity, which is its argument, nor softmax along the rows of a matrix)
PER_UNIT = [
    c for c, r in RULES.items() if r.kind == "loss" or not (r.is_identity or r.column_vjp and not r.partial_rule)
]

# Sample arguments for each rule: away from kinks, probabilities inside (0, 1).
RULE_ARGS = {
    Sigmoid: [(-1.3,), (0.4,), (2.2,)],
    Tanh: [(-0.7,), (0.3,), (1.9,)],
    ReLU: [(-0.8,), (0.6,)],
    Step: [(-0.5,), (0.9,)],
    Softmax: [(1, 0.2, -0.4, 1.1), (2, 0.2, -0.4, 1.1), (3, 0.2, -0.4, 1.1)],
    BinaryCrossEntropy: [(0.3, 1.0), (0.8, 0.0), (0.55, 0.25)],
    CrossEntropy: [(0.2, 0.5, 0.3, 0.0, 1.0, 0.0), (0.6, 0.4, 1.0, 0.0)],
    SquaredError: [(0.2, 0.9), (0.3, -1.2, 0.5, 0.25)],
    Softplus: [(-1.3,), (0.4,), (2.2,)],
    GELU: [(-1.6,), (0.3,), (2.1,)],
    LeakyReLU: [(-0.8,), (0.6,)],
    ELU: [(-1.2,), (0.7,)],
    SiLU: [(-2.5,), (0.4,), (1.7,)],
}
RULE_ARGS.update({RULES[c].prime: RULE_ARGS[c] for c in (GELU, LeakyReLU, ELU, SiLU)})
RULE_ARGS.update({RULES[RULES[c].prime].prime: RULE_ARGS[c] for c in (GELU, ELU, SiLU)})


def test_every_rule_has_an_autograd_implementation_and_samples():
    assert set(AUTOGRAD) == set(PER_UNIT) == set(RULE_ARGS)


@pytest.mark.parametrize("cls", PER_UNIT, ids=lambda c: c.__name__)
def test_every_rule_partial_matches_autograd(cls):
    for values in RULE_ARGS[cls]:
        first = 1 if cls is Softmax else 0  # softmax's first argument is the component index
        symbols = sp.symbols(f"a0:{len(values)}")
        args = [sp.Integer(values[0]), *symbols[1:]] if cls is Softmax else list(symbols)
        f = cls(*args)
        at = {s: v for s, v in zip(symbols, values, strict=True) if s in args}
        for i in range(first, len(values)):
            ours = float(RULES[cls].partial(f, i).subs(at).evalf(30))
            want = autograd.grad(lambda *a, i=i: AUTOGRAD[cls](*a), argnum=i)(*map(float, values))
            assert gradcheck.relative_error(ours, float(want)) <= 1e-12, (cls.__name__, values, i, ours, want)
        assert float(f.subs(at)) == pytest.approx(float(AUTOGRAD[cls](*map(float, values))), rel=1e-14)


def to_autograd(expr, env):
    """A SymPy expression of a declaration evaluated with autograd.numpy (leaves and nodes from ``env``)."""
    if expr.is_Symbol:
        return env[expr.name]
    if expr.is_Number:
        return float(expr)
    kind = type(expr)
    if kind is Softmax:
        return _softmax(int(expr.args[0]), *(to_autograd(a, env) for a in expr.args[1:]))
    args = [to_autograd(a, env) for a in expr.args]
    if expr.is_Add:
        return sum(args[1:], args[0])
    if expr.is_Mul:
        out = args[0]
        for a in args[1:]:
            out = out * a
        return out
    if expr.is_Pow:
        return args[0] ** args[1]
    if kind is sp.exp:
        return anp.exp(args[0])
    if kind is sp.log:
        return anp.log(args[0])
    if kind in AUTOGRAD:
        return AUTOGRAD[kind](*args)
    raise NotImplementedError(f"no autograd form for {kind.__name__}")


def loss_of(net, env):
    env = dict(env)
    for node in net.nodes:
        env[node.name] = to_autograd(node.expr, env)
    return env[net.loss_name]


@pytest.mark.parametrize("name", SCALAR)
@pytest.mark.parametrize("seed", range(2))
def test_per_unit_gradients_match_autograd(name, seed):
    net = load(name)
    d = net.derive()
    point = gradcheck.smooth_point(d, seed=seed)
    wrt = net.names("param") + net.names("input")
    fixed = {k: v for k, v in point.items() if k not in wrt}
    want = autograd.grad(lambda leaves: loss_of(net, {**fixed, **leaves}))({k: point[k] for k in wrt})
    ours = d.evaluate(point).gradients
    for p in wrt:
        assert gradcheck.relative_error(ours[p], float(want[p])) <= REL, (name, p, ours[p], want[p])


def _module(name):
    return load_file(ROOT / "generated" / f"{name}.py", f"golden_{name}")


def _close(ours, want, what):
    ours, want = np.asarray(ours, dtype=np.float64), np.asarray(want, dtype=np.float64)
    error = np.linalg.norm(ours - want) / max(np.linalg.norm(ours) + np.linalg.norm(want), 1e-300)
    assert error <= REL, f"{what}: relative error {error:.1e}"


def _smooth(params, seed=0):
    rng = np.random.default_rng(seed)
    return {k: np.asarray(v + 0.3 * rng.standard_normal(np.shape(v)), dtype=np.float64) for k, v in params.items()}


@pytest.mark.parametrize("name", GENERATED_SCALAR)
def test_generated_per_unit_module_gradients_match_autograd(name):
    """The module's mean gradient over a batch against autograd of the declaration's loss, averaged."""
    net, module = load(name), _module(name)
    params = _smooth(module.init_params(seed=1), seed=1)
    X, Y = module.demo_data(seed=1)
    X, Y = X[:, :16], Y[:, :16]
    rows = {n: X[i] for i, n in enumerate(module.INPUTS)} | {n: Y[i] for i, n in enumerate(module.TARGETS)}

    def J(p):
        return anp.mean(loss_of(net, {**rows, **p}))

    want = autograd.grad(J)(params)
    assert module.loss(params, X, Y) == pytest.approx(float(J(params)), rel=1e-12)
    ours = module.gradients(params, X, Y)
    for p in module.PARAMS:
        _close(ours[p], want[p], f"{name}: ∂J/∂{p}")


# ---------------------------------------------------------------- layer networks
ACT = {"relu": lambda z: anp.maximum(z, 0.0), "sigmoid": AUTOGRAD[Sigmoid], "tanh": anp.tanh, "identity": lambda z: z}
ACT.update({RULES[c].name: AUTOGRAD[c] for c in (Softplus, GELU, LeakyReLU, ELU, SiLU)})


def _columns_softmax(z):
    e = anp.exp(z - anp.max(z, axis=0))
    return e / anp.sum(e, axis=0)


def _rows_softmax(s):
    e = anp.exp(s - anp.max(s, axis=1, keepdims=True))
    return e / anp.sum(e, axis=1, keepdims=True)


ACT["softmax"] = _columns_softmax
ACT["softmax_rows"] = _rows_softmax
COST = {
    "binary_cross_entropy": lambda A, Y: -anp.sum(Y * anp.log(A) + (1 - Y) * anp.log(1 - A)),
    "cross_entropy": lambda A, Y: -anp.sum(Y * anp.log(A)),
    "mse": lambda A, Y: 0.5 * anp.sum((A - Y) ** 2),
}


def layer_cost(net, params, X, Y, seed=None):
    """J, from the VecNetwork's lowered assignments and cost, evaluated with autograd.numpy; the training cost,
    with each dropout mask drawn as the generated modules document it (declaration order, from seed)."""
    sizes = {**net.dim_sizes, net.m: X.shape[1]}
    sizes.update({net.constants[n]: v for n, v in net.constant_values.items()})
    env = {net.names("target")[0]: Y, **params}
    start = 0
    for name in net.names("input"):  # one input, or word indices stacked as the rows of X (word2vec's c and O)
        rows = X.shape[0] if len(net.names("input")) == 1 else int(sp.sympify(net.matrices[name].shape[0]).subs(sizes))
        env[name], start = X[start : start + rows], start + rows
    rng = np.random.default_rng(seed)
    for mask, keep in net.masks.items():
        rows = int(sp.sympify(net.matrices[mask].shape[0]).subs(sizes))
        env[mask] = (rng.random((rows, X.shape[1])) < float(sp.sympify(keep).subs(sizes))).astype(float)
    for node in net.assignments:
        env[node.name] = _value(node.value, env, sizes)
    return _value(net.cost_expr, env, sizes)[0, 0]


def _value(e, env, sizes):
    """One matrix expression of the program, entry by entry with autograd.numpy (not chainrule's printers)."""
    kind = type(e).__name__
    if kind == "MatrixSymbol":
        return env[e.name]
    if kind == "OneMatrix":
        return anp.ones((int(sp.sympify(e.shape[0]).subs(sizes)), int(sp.sympify(e.shape[1]).subs(sizes))))
    if kind == "MatAdd":
        out = _value(e.args[0], env, sizes)
        for a in e.args[1:]:
            out = out + _value(a, env, sizes)
        return out
    if kind == "MatMul":
        scalar, factors = e.as_coeff_matrices()
        out = _value(factors[0], env, sizes)
        for f in factors[1:]:
            out = anp.dot(out, _value(f, env, sizes))
        return float(sp.sympify(scalar).subs(sizes)) * out
    if kind == "HadamardProduct":
        out = _value(e.args[0], env, sizes)
        for a in e.args[1:]:
            out = out * _value(a, env, sizes)
        return out
    if kind == "HadamardPower":
        return _value(e.base, env, sizes) ** float(e.exp)
    if kind == "Transpose":
        return _value(e.arg, env, sizes).T
    if kind == "Apply":
        return ACT[e.function](_value(e.arg, env, sizes))
    if kind == "Causal":  # attention's mask: −∞ above the diagonal
        S = _value(e.arg, env, sizes)
        return anp.where(np.tril(np.ones(S.shape, dtype=bool)), S, -np.inf)
    if kind == "Embed":  # the word vectors of each column's indices, stacked (0 at padding)
        E, W = _value(e.args[0], env, sizes), np.asarray(env[e.args[1].name])
        blocks = [E[:, W[t]] * (W[t] != 0) for t in range(W.shape[0])]
        return anp.concatenate(blocks, axis=0)
    if kind == "Dots":  # word2vec's scores: each column's n stacked vectors dotted with the column of v
        Q, v = _value(e.args[0], env, sizes), _value(e.args[1], env, sizes)
        return anp.sum(anp.reshape(Q, (-1, v.shape[0], v.shape[1])) * v, axis=1)
    if kind == "L1Norm":
        return anp.reshape(anp.sum(anp.abs(_value(e.arg, env, sizes))), (1, 1))
    if kind == "FrobeniusSq":
        return anp.reshape(anp.sum(_value(e.arg, env, sizes) ** 2), (1, 1))
    if kind == "LossSum":
        return anp.reshape(COST[e.loss](_value(e.args[1], env, sizes), _value(e.args[2], env, sizes)), (1, 1))
    if kind == "Embed":  # E[:, w] for one row of word indices, 0 at padding
        words = env[e.args[1].name][0]
        return env[e.args[0].name][:, words] * (words != 0)
    if kind == "Im2col":  # the patches of the padded images, by slicing (C×H×W×m: one image per column)
        X = _value(e.args[0], env, sizes)
        C, H, W, HH, WW, s, p = _ints(e.args[1:], sizes)
        x = anp.pad(anp.reshape(X, (C, H, W, X.shape[1])), ((0, 0), (p, p), (p, p), (0, 0)))
        Ho, Wo = (H + 2 * p - HH) // s + 1, (W + 2 * p - WW) // s + 1
        patches = [x[:, k : k + s * Ho : s, l : l + s * Wo : s] for k in range(HH) for l in range(WW)]
        return anp.reshape(anp.stack(patches, axis=1), (-1, X.shape[1]))
    if kind == "Mat":  # one row per channel
        return anp.reshape(_value(e.args[0], env, sizes), (_ints(e.args[1:2], sizes)[0], -1))
    if kind == "Unmat":  # one image per column
        R, (H, W) = _value(e.args[0], env, sizes), _ints(e.args[1:], sizes)
        return anp.reshape(R, (R.shape[0] * H * W, -1))
    if kind in ("MaxPool", "AvgPool"):  # the windows stacked, then their max or mean
        Q = _value(e.args[0], env, sizes)
        C, H, W, size, s = _ints(e.args[1:], sizes)
        x = anp.reshape(Q, (C, H, W, Q.shape[1]))
        Ho, Wo = (H - size) // s + 1, (W - size) // s + 1
        windows = anp.stack([x[:, k : k + s * Ho : s, l : l + s * Wo : s] for k in range(size) for l in range(size)])
        pooled = anp.max(windows, axis=0) if kind == "MaxPool" else anp.mean(windows, axis=0)
        return anp.reshape(pooled, (-1, Q.shape[1]))
    raise NotImplementedError(kind)


def _ints(args, sizes):
    return [int(sp.sympify(a).subs(sizes)) for a in args]


def check_layer_module(net, module, seed=2):
    params = _smooth(module.init_params(seed=seed), seed=seed)
    X, Y = module.demo_data(seed=seed)
    if np.ndim(Y) == 3:  # a sequence model: 2 sequences (X T×m, Y T×K×m), each in the declaration's layout (m = T)
        X, Y = X[..., :2], Y[..., :2]

        def cost(p, seed=None):
            return sum(layer_cost(net, p, X[:, i][None], Y[:, :, i].T) for i in range(2)) / 2

    else:
        X, Y = X[:, :9], Y[:, :9]
        cost = functools.partial(layer_cost, net, X=X, Y=Y)
    trained = {p: params[p] for p in module.PARAMS}  # running averages are not differentiated
    want = autograd.grad(lambda p: cost({**params, **p}, seed=seed))(trained)
    training_cost = module.loss(params, X, Y, train=True, seed=seed)
    assert training_cost == pytest.approx(float(cost(params, seed=seed)), rel=1e-12)
    ours = module.gradients(params, X, Y, seed=seed)
    for p in module.PARAMS:
        _close(ours[p], want[p], f"{net.name}: ∂J/∂{p}")


@pytest.mark.parametrize("name", LAYER)
def test_generated_layer_module_gradients_match_autograd(name):
    check_layer_module(load(name), _module(name))


@pytest.mark.parametrize("name", [n for n in LAYER if hasattr(_module(n), "hvp")])
def test_generated_hessian_vector_products_match_autograd(name):
    """The module's hvp (the R-operator, forward over reverse) against autograd's reverse-over-reverse
    Hessian-vector product of the declaration's training cost."""
    net, module = load(name), _module(name)
    params = _smooth(module.init_params(seed=2), seed=2)
    X, Y = module.demo_data(seed=2)
    X, Y = X[:, :9], Y[:, :9]
    trained = {p: params[p] for p in module.PARAMS}
    rng = np.random.default_rng(3)
    V = {p: rng.standard_normal(np.shape(v)) for p, v in trained.items()}
    flat, unflatten = flatten(trained)
    product = autograd.hessian_vector_product(lambda f: layer_cost(net, {**params, **unflatten(f)}, X, Y, seed=2))
    want = unflatten(product(flat, flatten(V)[0]))
    ours = module.hvp(params, X, Y, V, seed=2)
    for p in module.PARAMS:
        _close(ours[p], want[p], f"{net.name}: (H V) for {p}")


@pytest.mark.parametrize("name", [n for n in LAYER if hasattr(_module(n), "hessian")])
def test_generated_hessians_match_autograd(name):
    """The module's Hessian (read off the R-operator, block by block) against autograd's hessian."""
    net, module = load(name), _module(name)
    params = _smooth(module.init_params(seed=2), seed=2)
    X, Y = module.demo_data(seed=2)
    X, Y = X[:, :9], Y[:, :9]
    shapes = {p: np.shape(params[p]) for p in module.PARAMS}  # flattened in the order of PARAMS, as hessian is
    ends = np.cumsum([int(np.prod(s)) for s in shapes.values()])

    def unflatten(f):
        return {p: anp.reshape(f[end - int(np.prod(s)) : end], s) for (p, s), end in zip(shapes.items(), ends)}

    flat = np.concatenate([np.ravel(params[p]) for p in module.PARAMS])
    want = autograd.hessian(lambda f: layer_cost(net, {**params, **unflatten(f)}, X, Y))(flat)
    _close(module.hessian(params, X, Y), want, f"{net.name}: H")


@pytest.mark.parametrize(
    "hidden, output, loss",
    [
        (hidden, output, loss)
        for hidden in ("relu", "sigmoid", "tanh")
        for output, loss in (
            ("sigmoid", "binary_cross_entropy"),
            ("softmax", "cross_entropy"),
            ("identity", "mse"),
            ("sigmoid", "mse"),
        )
    ]
    # every other activation, one record file each, in the hidden layers of one pair
    + [(RULES[c].name, "softmax", "cross_entropy") for c in (Softplus, GELU, LeakyReLU, ELU, SiLU)],
)
def test_layer_templates_match_autograd_for_every_pair(tmp_path, hidden, output, loss):
    from codegen.cli.cmd_generate import generate
    from derive import mlp

    sizes = [3, 5, 4, 2] if output != "sigmoid" or loss == "mse" else [3, 5, 1]
    net = mlp("n", sizes=sizes, hidden=hidden, output=output, loss=loss)
    spec = tmp_path / "spec.py"
    spec.write_text(
        f"from derive import mlp\nnetwork = mlp('n', sizes={sizes}, hidden='{hidden}', output='{output}', loss='{loss}')\n"
    )
    generate(str(spec), str(tmp_path / "n.py"), tests=False)
    check_layer_module(net, load_file(tmp_path / "n.py"))


# ------------------------------------------------------------------ NLP models
def nlp_cost(net, params, X, Y):
    """J of an NLP network written out in autograd's NumPy: the lookup, the pooling, the layers, the loss."""
    A = X
    if net.text_task.embedded:
        present = X != 0
        Emb = anp.transpose(params["E"][:, X], (1, 0, 2)) * present[:, None, :]  # n×d×m, 0 at padding
        kinds = {type(a.value).__name__ for a in net.assignments}
        if "PoolMean" in kinds:
            A = anp.sum(Emb, axis=0) / np.maximum(present.sum(axis=0), 1)
        elif "PoolMax" in kinds:
            A = anp.max(anp.where(present[:, None, :], Emb, -anp.inf), axis=0)
        else:
            A = anp.reshape(Emb, (-1, X.shape[1]))
    for layer, g in enumerate(net.activations, 1):
        A = ACT[g](anp.dot(params[f"W{layer}"], A) + params[f"b{layer}"])
    return COST[net.loss](A, Y) / A.shape[1]


def attention_cost(params, W, Y):
    """The self-attention LM written again with autograd.numpy, rows are positions: X = E[:, W]ᵀ, S = Q Kᵀ/√d
    masked above the diagonal, P = softmax of each row, O = P V, A = softmax(Wo Oᵀ + bo) per column, mean CE."""
    X = params["E"][:, W[0]].T
    Q, K, V = anp.dot(X, params["Wq"]), anp.dot(X, params["Wk"]), anp.dot(X, params["Wv"])
    S = anp.dot(Q, K.T) / np.sqrt(Q.shape[1])
    T = S.shape[0]
    P = _rows_softmax(anp.where(np.tri(T, dtype=bool), S, -np.inf))
    A = _columns_softmax(anp.dot(params["Wo"], anp.dot(P, V).T) + params["bo"])
    return COST["cross_entropy"](A, Y) / T


def recurrent_cost(net, params, X, Y):
    """J of a recurrence, unrolled by hand over the T rows of X with autograd's NumPy: each step's assignments
    with the states carried (zero at the start), then those after the last step, then the cost."""
    rec = net.recurrence
    sizes = {**net.dim_sizes, net.m: X.shape[-1]}
    (w,) = [n for n in rec.per_step if net.kinds[n] == "input"]
    state = {prev: anp.zeros((net.size(net.matrices[prev].shape[0]), X.shape[-1])) for prev in rec.states.values()}
    (y,) = net.names("target")
    every_step = y in rec.per_step  # Y: each step's next word, T×m indices
    vocab = net.size(net.matrices[y].shape[0])
    env, total = {}, 0.0
    for t in range(X.shape[0]):
        targets = {y: np.eye(vocab)[:, Y[t]] if every_step else Y}
        env = {**params, **targets, w: X[t : t + 1] if w in net.index_inputs else X[t], **state}
        for node in net.assignments:
            if node.name in rec.per_step:
                env[node.name] = _value(node.value, env, sizes)
        state = {prev: env[h] for h, prev in rec.states.items()}
        if every_step:
            total = total + _value(net.cost_expr, env, sizes)[0, 0]
    if every_step:
        return total
    for node in net.assignments:
        if node.name not in rec.per_step:
            env[node.name] = _value(node.value, env, sizes)
    return _value(net.cost_expr, env, sizes)[0, 0]


RECURRENT_NLP = [n for n in nlp_names() if n not in RECURRENT and nlp_model(n).recurrence is not None]


@pytest.mark.parametrize("name", RECURRENT + RECURRENT_NLP)
def test_generated_recurrent_module_gradients_match_autograd(name):
    # backpropagation through time by the generated module, against autograd on the unrolled program
    net, module = (nlp_model(name) if name in RECURRENT_NLP else load(name)), _module(name)
    if hasattr(module, "load_data"):  # words of the shipped corpus
        (X, Y), _, _ = module.load_data()
    else:  # numbers at each step (X is T×d×m), labelled by the module's teacher
        X, Y = module.demo_data(seed=0)
    X, Y = module.check_data(X[..., :6], Y[:, :6] if Y.ndim == 2 else Y[:6])
    params = _smooth(module.init_params(seed=0), seed=0)
    want = autograd.grad(lambda p: recurrent_cost(net, p, X, Y))(params)
    assert module.loss(params, X, Y) == pytest.approx(float(recurrent_cost(net, params, X, Y)), rel=1e-12)
    ours = module.gradients(params, X, Y)
    for p in params:
        _close(ours[p], want[p], f"{name}: ∂J/∂{p}")


def transformer_cost(params, W, Y, eps=1e-5):
    """The transformer block written again with autograd.numpy, rows are positions: attention as above, H = X + O,
    layer norm of each row, H2 = H̃ + ReLU(H̃ W1 + b1) W2 + b2, A = softmax(Wo H2ᵀ + bo) per column, mean CE."""
    X = params["E"][:, W[0]].T
    Q, K, V = anp.dot(X, params["Wq"]), anp.dot(X, params["Wk"]), anp.dot(X, params["Wv"])
    T = X.shape[0]
    S = anp.dot(Q, K.T) / np.sqrt(Q.shape[1])
    H = X + anp.dot(_rows_softmax(anp.where(np.tri(T, dtype=bool), S, -np.inf)), V)
    mu = anp.mean(H, axis=1, keepdims=True)
    var = anp.mean((H - mu) ** 2, axis=1, keepdims=True)
    Ht = params["gamma"] * (H - mu) / anp.sqrt(var + eps) + params["beta"]
    H2 = Ht + anp.dot(anp.maximum(anp.dot(Ht, params["W1"]) + params["b1"], 0.0), params["W2"]) + params["b2"]
    A = _columns_softmax(anp.dot(params["Wo"], H2.T) + params["bo"])
    return COST["cross_entropy"](A, Y) / T


SEQUENCE_COSTS = {"self_attention": lambda p, W, Y: attention_cost(p, W, Y), "transformer_block": transformer_cost}


def batch_cost(cost, params, X, Y):
    """The mean over the m sequences (X: T×m indices, Y: T×|V|×m one-hot) of one sequence's cost: a batched
    module's J, each sequence on its own (no position sees another sequence)."""
    m = X.shape[1]
    return sum(cost(params, X[:, i][None, :], Y[:, :, i].T) for i in range(m)) / m


@pytest.mark.parametrize("name", [n for n in nlp_names() if n not in RECURRENT + RECURRENT_NLP and n not in LAYER])
def test_generated_nlp_module_gradients_match_autograd(name):
    net, module = nlp_model(name), _module(name)
    (X, Y), _, _ = module.load_data()
    if name in SEQUENCE_COSTS:  # m = 3 sequences of T positions
        X, Y = module.check_data(X[:, :3], Y[:, :3])
        cost = functools.partial(batch_cost, SEQUENCE_COSTS[name])
        params = _smooth(module.init_params(seed=0), seed=0)
        want = autograd.grad(lambda p: cost(p, X, Y))(params)
        assert module.loss(params, X, Y) == pytest.approx(float(cost(params, X, Y)), rel=1e-12)
        ours = module.gradients(params, X, Y)
        for p in params:
            _close(ours[p], want[p], f"{name}: ∂J/∂{p}")
        return
    X, Y = module.check_data(X[:, :6], Y[:6])
    params = _smooth(module.init_params(seed=0), seed=0)
    want = autograd.grad(lambda p: nlp_cost(net, p, X, Y))(params)
    assert module.loss(params, X, Y) == pytest.approx(float(nlp_cost(net, params, X, Y)), rel=1e-12)
    ours = module.gradients(params, X, Y)
    for p in params:
        _close(ours[p], want[p], f"{name}: ∂J/∂{p}")


# ------------------------------------------------------------------ a convolutional network, written directly
def direct_conv_net_cost(params, x, labels):
    """conv_net written again in cs231n's layout with autograd.numpy, not as the program's im2col form: x is
    N×1×12×12, the convolution a sum over the 3×3 filter's offsets of shifted windows (pad 1), ReLU, 2×2 max
    pooling by a reshape, the affine layer on the pooled images flattened channel by channel, mean CE."""
    N_, F = x.shape[0], params["W1"].shape[0]
    w = anp.reshape(params["W1"], (F, 1, 3, 3))
    xp = anp.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    out = params["b1"].reshape(1, F, 1, 1)
    for k in range(3):
        for l in range(3):
            out = out + anp.einsum("fc,ncij->nfij", w[:, :, k, l], xp[:, :, k : k + 12, l : l + 12])
    a = anp.maximum(out, 0.0)
    pooled = anp.max(anp.max(anp.reshape(a, (N_, F, 6, 2, 6, 2)), axis=5), axis=3)
    features = anp.transpose(anp.reshape(pooled, (N_, -1)))  # row f·36 + i·6 + j: channel by channel
    Z2 = anp.dot(params["W2"], features) + params["b2"]
    return COST["cross_entropy"](_columns_softmax(Z2), np.eye(4)[:, labels]) / N_


def test_conv_net_module_against_a_convolution_written_directly():
    module = _module("conv_net")
    X, labels = module.bars(9, seed=3)
    params = _smooth(module.init_params(seed=3), seed=3)
    x = module.as_images(X)
    want = autograd.grad(lambda p: direct_conv_net_cost(p, x, labels))(params)
    assert module.loss(params, X, labels) == pytest.approx(float(direct_conv_net_cost(params, x, labels)), rel=1e-12)
    ours = module.gradients(params, X, labels)
    for p in module.PARAMS:
        _close(ours[p], want[p], f"conv_net: ∂J/∂{p}")
