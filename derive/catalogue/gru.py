"""A GRU in PyTorch's and CMU 11-785's convention: the reset gate applied after the hidden product (nn.GRU; HW3P1).

One step t, declared once: the reset and update gates r_t = σ(W_r x_t + U_r h_{t−1} + b_r),
z_t = σ(W_z x_t + U_z h_{t−1} + b_z), the candidate n_t = tanh(W_n x_t + b_n + r_t ⊙ (U_n h_{t−1} + b_hn))
and h_t = (1 − z_t) ⊙ n_t + z_t ⊙ h_{t−1}, with h_0 = 0; a label from the last state, ŷ = σ(V h_T + c).
The reset gate multiplies U_n h_{t−1} + b_hn, after the product: so dr_t = dZ_n ⊙ (U_n h_{t−1} + b_hn),
dU_n = (1/m) Σ_t (dZ_n ⊙ r_t) h_{t−1}ᵀ, and h_{t−1} gets U_nᵀ (dZ_n ⊙ r_t).  d2l's and Cho et al.'s GRU
(``gru_d2l``) applies r to h_{t−1} before the product: another function, with other gradients (the handout
sets them side by side).  Inputs are numbers at each step (X is T×d×m, labelled by a teacher), or a review's
words (``build("words")``: x_t = E[:, w_t], sentiment from the shipped corpus).
"""

from derive import VecNetwork, binary_cross_entropy, embed, hadamard, sigmoid, tanh, with_training
from derive.convention import with_convention
from derive.nlp.task import TextTask, vocabulary, with_task

CONVENTION = "PyTorch's and 11-785's", "n_t = tanh(W_n x_t + b_n + r_t ⊙ (U_n h_{t−1} + b_hn)): r after the product"
# the courses' spellings of the parameters: each has a bias on both sides of a gate where this declaration has one
# (b_r = brx + brh), but b_hn inside r ⊙ (…) as here
NAMES = {
    "11-785 HW3P1": {
        **{f"W{g}x": f"W_{g}" for g in "rzn"},
        **{f"W{g}h": f"U_{g}" for g in "rzn"},
        **{f"b{g}{side}": f"b_{g}" for g in "rz" for side in "xh"},
        "bnx": "b_n",
        "bnh": "b_hn",
        "hidden": "h_prev",  # GRUCell's self.hidden: the state it was given, h_{t−1}
    },
    "PyTorch's nn.GRU": {
        **{f"W_i{g}": f"W_{g}" for g in "rzn"},
        **{f"W_h{g}": f"U_{g}" for g in "rzn"},
        **{f"b_{side}{g}": f"b_{g}" for g in "rz" for side in "ih"},
        "b_in": "b_n",
        "b_hn": "b_hn",
    },
}


def build(inputs: str = "numbers") -> VecNetwork:
    """The GRU over numbers at each step (``inputs="numbers"``) or over a review's words (``"words"``)."""
    words = inputs == "words"
    net = VecNetwork(
        "gru_sentiment" if words else "gru",
        doc="a GRU in PyTorch's and 11-785's convention (the reset gate after the hidden product), a label from the"
        + (" last state of a review's words" if words else " last state"),
    )
    d, nh, k = net.dims(d=8 if words else 3, nh=16 if words else 8, k=1)  # inputs, hidden units, outputs
    if words:
        nV = net.dims(nV=len(vocabulary("sentiment")))
        E = net.param("E", (d, nV))
    W_r, U_r, b_r = net.param("W_r", (nh, d)), net.param("U_r", (nh, nh)), net.param("b_r", (nh, 1))
    W_z, U_z, b_z = net.param("W_z", (nh, d)), net.param("U_z", (nh, nh)), net.param("b_z", (nh, 1))
    W_n, U_n, b_n, b_hn = (
        net.param("W_n", (nh, d)),
        net.param("U_n", (nh, nh)),
        net.param("b_n", (nh, 1)),
        net.param("b_hn", (nh, 1)),
    )
    net.sequence("T", 24 if words else 6)
    with net.step():
        x = net.let("x", embed(E, net.indices("w", 1, nV))) if words else net.input("x", d)
        h_prev = net.state("h", nh)
        r = net.let("r", sigmoid(W_r @ x + U_r @ h_prev + b_r))  # reset gate
        z = net.let("z", sigmoid(W_z @ x + U_z @ h_prev + b_z))  # update gate
        n_t = net.let("n", tanh(W_n @ x + b_n + hadamard(r, U_n @ h_prev + b_hn)))  # r after the product
        net.let("h", hadamard(1 - z, n_t) + hadamard(z, h_prev))
    Y = net.target("Y", k)
    V, c = net.param("V", (k, nh)), net.param("c", (k, 1))
    net.cost(binary_cross_entropy(sigmoid(V @ net.handles["h"] + c), Y))
    with_convention(net, *CONVENTION, other=lambda: _d2l(inputs), names=NAMES)
    if words:
        return with_task(net, TextTask("sentiment", {"epochs": 40, "lr": 0.5, "batch": 16, "seed": 0, "clip": 5.0}, 24))
    return with_training(net, epochs=300, lr=0.05)


def _d2l(inputs: str) -> VecNetwork:
    from derive.catalogue import load

    return load("gru_d2l", inputs=inputs)


def model(inputs: str = "numbers") -> VecNetwork:
    """The trained model: the same declaration; ``inputs="words"`` is the one ``chainrule nlp`` trains on the
    shipped reviews (x_t = E[:, w_t])."""
    return build(inputs)
