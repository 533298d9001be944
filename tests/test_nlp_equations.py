"""The layer-level NLP derivation: equation kinds, the sparse E gradient, and agreement with the scalar chain rule."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from derive import ChainruleError
from derive.catalogue import load
from derive.nlp.equations import backward, embedding_steps, forward
from derive.nlp.model import Dense, Features, TextModel, Words

ROOT = Path(__file__).resolve().parent.parent


def generated(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "generated" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def lm(pooling="concat"):
    return TextModel("t", Words(16, 3, pooling), (Dense(32, "tanh"),), classes="vocab", task="lm")


def test_forward_kinds_in_order():
    assert [e.kind for e in forward(lm())] == [
        "embed",
        "concat",
        "linear",
        "activation",
        "linear",
        "activation",
        "loss_ce",
    ]
    assert [e.kind for e in forward(lm("max"))][:2] == ["embed", "pool_max"]


def test_backward_ends_with_the_pooling_gradient_and_the_scatter_add():
    eqs = backward(lm("max"))
    assert [e.kind for e in eqs][-2:] == ["pool_max_grad", "embed_grad"]
    assert str(eqs[-1]).startswith(
        "(B10) dE[:, v] = (1/m) Σ_{t,k: w_{t,k} = v} de_{t,k}  (scatter-add; 0 for words not in the batch)"
    )
    assert "routed to the arg-max" in eqs[-2].text
    assert eqs[-1].numpy == ("dE = (ids.ravel(), dEmb.reshape(dEmb.shape[0], -1) / m)",)


def test_lecture_equations_read_as_in_seed_004():
    texts = [e.text for e in backward(lm())]
    assert texts[:5] == [
        "dZ2 = A2 − Y  (Y one-hot: subtract 1 at each example's class y)",
        "dW2 = (1/m) dZ2 A1ᵀ",
        "db2 = (1/m) Σ_columns dZ2",
        "dA1 = W2ᵀ dZ2",
        "dZ1 = dA1 ⊙ (1 − A1²)",
    ]
    assert backward(lm())[1].latex == r"dW^{[2]} = \frac{1}{m}\, dZ^{[2]} A^{[1]\top}"


def test_embedding_steps_say_only_seen_columns_and_argmax():
    assert [s.kind for s in embedding_steps(lm("max"))] == ["lookup", "local", "pooling", "chain", "batch"]
    steps = " ".join(str(s) for s in embedding_steps(lm("max")))
    assert "a word not in the text gets 0" in steps and "arg-max" in steps and "np.add.at" in steps
    assert embedding_steps(TextModel("f", Features(("x1", "x2")))) == []


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"inputs": Words(4, 2, "median")}, "unknown pooling 'median'"),
        ({"inputs": Words(4, 2), "hidden": (Dense(3, "swish"),)}, "unknown activation 'swish'"),
        ({"inputs": Words(4, 2), "classes": 0}, "classes must be"),
        ({"inputs": Words(4, 2), "task": "translation"}, "unknown task"),
    ],
)
def test_bad_declarations_name_the_problem(kwargs, message):
    with pytest.raises(ChainruleError, match=message):
        TextModel("bad", **kwargs)


def test_scalar_embedding_network_gives_unseen_words_zero_gradient():
    net = load("embedding_classifier")
    d = net.derive()
    grads = d.evaluate(net.examples["text_w1_w1"]).gradients
    assert grads["E11"] != 0 and grads["E21"] != 0
    assert all(grads[f"E{i}{v}"] == 0 for i in (1, 2) for v in (2, 3))
    assert str(d.gradient("E12")).startswith("o12*(")  # ∂L/∂E_iv carries the one-hot o_tv of word v


@pytest.mark.parametrize("name", ["sentiment_features", "sentiment_features_2layer"])
def test_generated_module_agrees_with_the_scalar_chain_rule(name):
    """The same point in both: scalar parameters W_ij / U_j map to the layer matrices."""
    net, mod = load(name), generated(name)
    d = net.derive()
    rng = np.random.default_rng(3)
    point = {leaf: float(rng.normal()) for leaf in net.leaves}
    point["y"] = 1.0
    X = np.array([[point[f"x{i}"]] for i in range(1, 7)])
    if name == "sentiment_features":
        params = {"W1": np.array([[point[f"w{i}"] for i in range(1, 7)]]), "b1": np.array([[point["b"]]])}
        names = {"W1": [[f"w{i}" for i in range(1, 7)]], "b1": [["b"]]}
    else:
        params = {
            "W1": np.array([[point[f"W{i}{j}"] for i in range(1, 7)] for j in range(1, 4)]),
            "b1": np.array([[point[f"b{j}"]] for j in range(1, 4)]),
            "W2": np.array([[point[f"U{j}"] for j in range(1, 4)]]),
            "b2": np.array([[point["b"]]]),
        }
        names = {
            "W1": [[f"W{i}{j}" for i in range(1, 7)] for j in range(1, 4)],
            "b1": [[f"b{j}"] for j in range(1, 4)],
            "W2": [[f"U{j}" for j in range(1, 4)]],
            "b2": [["b"]],
        }
    batch = {"X": X, "Y": np.array([[1.0]])}
    ev = d.evaluate(point)
    assert mod.loss(params, batch) == pytest.approx(ev.values["L"], rel=1e-12)
    grads = mod.gradients(params, batch)
    for key, grid in names.items():
        expected = np.array([[ev.gradients[n] for n in row] for row in grid])
        np.testing.assert_allclose(grads[key], expected, rtol=1e-10, atol=1e-14)


def test_generated_sentiment_module_computes_the_same_features():
    from derive.nlp.features import features, load_lexicon

    mod, lexicon = generated("sentiment_features"), load_lexicon()
    theirs = mod.load_lexicon(ROOT / "derive/nlp/data/sentiment/lexicon.txt")
    assert theirs == lexicon
    for line in (ROOT / "derive/nlp/data/sentiment/corpus.tsv").read_text().splitlines()[1:]:
        text = line.split("\t")[3]
        assert mod.features(text, theirs) == features(text, lexicon)


def test_generated_lm_windows_and_vocabulary_are_derive_nlps():
    from derive.nlp.features import BOS, EOS, PAD, UNK, build_vocab, indices, windows

    mod = generated("ffnn_lm")
    train, _, vocab = mod.load_data(ROOT / "derive/nlp/data")
    sentences = mod.read_sentences(ROOT / "derive/nlp/data/lm/corpus.txt")
    assert vocab == build_vocab(sentences, specials=(PAD, UNK, BOS, EOS))
    contexts, targets = windows([indices(s, vocab) for s in sentences], n=mod.LENGTH + 1, bos=2, eos=3)
    assert train["ids"].T.tolist() == contexts and train["y"].tolist() == targets


KIND_IN_VECTORISED = {
    "linear": "affine",
    "activation": "activation",
    "weight_grad": "weight_grad",
    "bias_grad": "bias_grad",
    "input_grad": "backprop",
    "activation_grad": "activation_grad",
}


@pytest.mark.parametrize(
    "name",
    [
        "sentiment_features",
        "sentiment_features_2layer",
        "embedding_classifier",
        "embedding_classifier_sentiment",
        "ffnn_lm",
    ],
)
def test_dense_layers_are_the_vectorised_derivations_equations(name):
    """Past the embedding and pooling, an NLP model is an MLP: its equations read as derive.layers.mlp's."""
    from codegen.nlp_module import model
    from derive.layers import mlp

    m = model(name)
    sizes = m.sizes(88)
    hidden = m.hidden[0].activation if m.hidden else "sigmoid"
    vec = mlp(
        "check",
        sizes,
        hidden=hidden,
        output=m.activation(m.layers),
        loss="binary_cross_entropy" if m.binary else "cross_entropy",
    ).derive()
    theirs = [(e.kind, e.text) for e in vec.forward + vec.backward if e.kind in KIND_IN_VECTORISED.values()]
    ours = [
        (KIND_IN_VECTORISED[e.kind], e.text)
        for e in forward(m) + backward(m)
        if e.kind in KIND_IN_VECTORISED and not (e.kind == "input_grad" and e.target == "dX")
    ]
    assert ours == theirs


def test_relu_step_is_written_with_the_rules_latex_name():
    from derive.functions import RULES, Step

    model = TextModel("t", Words(16, 3, "mean"), (Dense(8, "relu"),), classes=2)
    (step,) = [e for e in backward(model) if e.kind == "activation_grad"]
    assert step.latex == rf"dZ^{{[1]}} = dA^{{[1]}} \odot {RULES[Step].latex}[Z^{{[1]}} \ge 0]"
    assert r"\mathbb{1}" not in step.latex  # amssymb has no blackboard-bold digits
