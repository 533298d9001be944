"""The layer-level NLP derivation: equation kinds, the sparse E gradient, and agreement with the scalar chain rule."""

from pathlib import Path

import numpy as np
import pytest

from codegen.emit.load import load_file
from derive import ChainruleError
from derive.catalogue import load

ROOT = Path(__file__).resolve().parent.parent


def generated(name):
    return load_file(ROOT / "generated" / f"{name}.py")


def text_model(name):
    from codegen.emit.nlp_module import model

    return model(name)


def test_forward_equations_in_order():
    d = text_model("ffnn_lm").derive()
    assert [e.text for e in d.forward] == [
        "Emb = E[:, W]",
        "Z1 = W1 Emb + b1",
        "A1 = σ(Z1)",
        "Z2 = W2 A1 + b2",
        "A2 = softmax(Z2)",
        "J = −(1/m) Σ Y ⊙ log A2",
    ]
    assert [e.text for e in text_model("embedding_classifier_max").derive().forward][:2] == [
        "Emb = E[:, W]",
        "X = pool_max(Emb)",
    ]


@pytest.mark.parametrize(
    "name, pooled",
    [
        ("embedding_classifier", "dEmb = spread_mean(dX, W)"),
        ("embedding_classifier_max", "dEmb = route_max(dX, Emb)"),
        ("embedding_classifier_concat", "dEmb = W1ᵀ dZ1"),
        ("ffnn_lm", "dEmb = W1ᵀ dZ1"),
    ],
)
def test_backward_ends_with_the_pooling_adjoint_and_the_scatter_add(name, pooled):
    """Derived by the engine from the op table's rules: no equation of the NLP models is written by hand."""
    d = text_model(name).derive()
    assert [e.text for e in d.backward][-2:] == [pooled, "dE = (1/m) scatter_add(dEmb, W)"]
    (step,) = [s for s in d.steps if getattr(s, "target", "") == "dE"]
    assert "scatter-add" in step.rule and "0 for a word not in the batch" in step.rule


def test_lecture_equations_read_as_in_seed_004():
    texts = [e.text for e in text_model("ffnn_lm").derive().backward]
    assert texts[:5] == [
        "dZ2 = A2 − Y",
        "dW2 = (1/m) dZ2 A1ᵀ",
        "db2 = (1/m) Σ_columns dZ2",
        "dA1 = W2ᵀ dZ2",
        "dZ1 = dA1 ⊙ A1 ⊙ (1 − A1)",
    ]


def test_the_vocabulary_is_a_dimension_counted_on_the_shipped_data():
    from derive.nlp.task import vocabulary

    net = text_model("ffnn_lm")
    assert net.size(net.matrices["E"].shape[1]) == len(vocabulary("lm")) == 88
    assert net.index_inputs == {"W": net.matrices["E"].shape[1]}
    with pytest.raises(ValueError, match="unknown pooling"):
        load_module("embedding_classifier").model(pooling="median")
    with pytest.raises(ChainruleError, match="unknown task"):
        load_module("embedding_classifier").model(task="translation")


def load_module(name):
    import importlib

    return importlib.import_module(f"derive.catalogue.{name}")


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
    Y = np.array([[1.0]])
    ev = d.evaluate(point)
    assert mod.loss(params, X, Y) == pytest.approx(ev.values["L"], rel=1e-12)
    grads = mod.gradients(params, X, Y)
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
    (X, Y), _, vocab = mod.load_data(ROOT / "derive/nlp/data")
    sentences = mod.read_sentences(ROOT / "derive/nlp/data/lm/corpus.txt")
    assert vocab == build_vocab(sentences, specials=(PAD, UNK, BOS, EOS))
    contexts, targets = windows([indices(s, vocab) for s in sentences], n=mod.LENGTH + 1, bos=2, eos=3)
    assert X.T.tolist() == contexts and Y.tolist() == targets


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
def test_dense_layers_are_the_mlps_equations(name):
    """Past the embedding and pooling, an NLP model is an MLP: its dense equations read as derive.ir.layers.mlp's."""
    from derive.ir.layers import mlp

    net = text_model(name)
    sizes = [net.size(net.matrices["W1"].shape[1])] + [net.size(r) for r in net.sizes[1:]]
    hidden = net.hidden if isinstance(net.hidden, str) else "sigmoid"
    vec = mlp("check", sizes, hidden=hidden, output=net.output, loss=net.loss).derive()
    dense = ("affine", "activation", "weight_grad", "bias_grad", "activation_grad", "output_delta")
    first = "X" if net.text_task.embedded is False or "X" in net.matrices else "Emb"

    def texts(d):
        return [e.text.replace(first, "X") for e in d.forward + d.backward if e.kind in dense]

    assert texts(net.derive()) == texts(vec)
