"""The NumPy printer: exact strings, helpers and imports recorded from what was printed."""

import sympy as sp

from codegen.render.numpy_printer import ModulePrinter, numpy_code
from derive.functions import (
    binary_cross_entropy,
    cross_entropy,
    relu,
    sigmoid,
    softmax,
    squared_error,
    step,
    tanh,
)

x, y, z, yhat = sp.symbols("x y z yhat")


def test_activations_print_their_rules_numpy_form():
    assert numpy_code(sigmoid(z)) == "sigmoid(z)"
    assert numpy_code(tanh(z)) == "np.tanh(z)"
    assert numpy_code(relu(z)) == "np.maximum(z, 0)"
    assert numpy_code(step(z)) == "(z >= 0)"
    assert numpy_code(softmax(x, z)[1]) == "softmax(np.stack([x, z]))[1]"


def test_positive_terms_first():
    assert numpy_code(-y + yhat) == "yhat - y"
    assert numpy_code(x * (-y + yhat) * step(z)) == "x*(yhat - y)*(z >= 0)"
    assert numpy_code(1 - x) == "1 - x"


def test_losses_plain_and_from_logits():
    assert numpy_code(squared_error(yhat, y)) == "squared_error((yhat,), (y,))"
    assert numpy_code(binary_cross_entropy(yhat, y)) == "binary_cross_entropy(yhat, y)"
    # ŷ = σ(z): printed from the logit, stable at |z| = 1000
    assert numpy_code(binary_cross_entropy(yhat, y), {yhat: sigmoid(z)}) == "binary_cross_entropy_logits(z, y)"
    p1, p2, y1, y2, z1, z2 = sp.symbols("p1 p2 y1 y2 z1 z2")
    s1, s2 = softmax(z1, z2)
    assert numpy_code(cross_entropy([p1, p2], [y1, y2]), {p1: s1, p2: s2}) == "cross_entropy_logits((z1, z2), (y1, y2))"
    assert numpy_code(cross_entropy([p1, p2], [y1, y2])) == "cross_entropy((p1, p2), (y1, y2))"
    # components out of order are not a softmax over (z1, z2) in order: no logits form
    assert numpy_code(cross_entropy([p1, p2], [y1, y2]), {p1: s2, p2: s1}) == "cross_entropy((p1, p2), (y1, y2))"


def test_helpers_and_imports_are_recorded():
    printer = ModulePrinter({yhat: sigmoid(z)})
    printer.doprint(x * tanh(z))
    assert printer.helpers == set() and printer.imports == ["import numpy as np"]
    printer.doprint(binary_cross_entropy(yhat, y) + sigmoid(x))
    assert printer.helpers == {"binary_cross_entropy_logits", "sigmoid"}
    bare = ModulePrinter()
    bare.doprint(x * y)
    assert bare.imports == [] and bare.helpers == set()
    bare.doprint(sp.exp(x))
    assert bare.imports == ["import numpy as np"]


def test_helpers_are_stable_at_large_logits():
    import numpy as np

    from codegen.render.numpy_helpers import helper_source

    namespace = {"np": np}
    names = ["sigmoid", "softmax", "binary_cross_entropy_logits", "cross_entropy_logits"]
    exec(helper_source(names), namespace)  # noqa: S102 (the helpers' source, as a generated module holds it)
    zs = np.array([-1000.0, 0.0, 1000.0])
    with np.errstate(all="raise", under="ignore"):
        assert np.allclose(namespace["sigmoid"](zs), [0.0, 0.5, 1.0])
        assert np.allclose(
            namespace["binary_cross_entropy_logits"](zs, np.array([1.0, 1.0, 0.0])), [1000.0, np.log(2), 1000.0]
        )
        s = namespace["softmax"](np.array([[1000.0, -1000.0], [0.0, 0.0]]))
        assert np.allclose(s, [[1.0, 0.0], [0.0, 1.0]])
        ce = namespace["cross_entropy_logits"](np.array([[1000.0], [-1000.0]]), np.array([[0.0], [1.0]]))
        assert np.allclose(ce, [2000.0])
