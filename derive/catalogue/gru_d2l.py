"""A GRU in d2l's and Cho et al.'s convention: the reset gate applied to h_{t−1} before the product (d2l §10.2).

One step t, declared once, in the names of ``gru`` so the two read side by side: the reset and update
gates r_t = σ(W_r x_t + U_r h_{t−1} + b_r), z_t = σ(W_z x_t + U_z h_{t−1} + b_z), the candidate (d2l's
H̃_t) n_t = tanh(W_n x_t + U_n (r_t ⊙ h_{t−1}) + b_n) and h_t = z_t ⊙ h_{t−1} + (1 − z_t) ⊙ n_t, with h_0 = 0;
a label from the last state, ŷ = σ(V h_T + c).  The reset gate multiplies h_{t−1} before U_n does: so
dr_t = (U_nᵀ dZ_n) ⊙ h_{t−1}, dU_n = (1/m) Σ_t dZ_n (r_t ⊙ h_{t−1})ᵀ, and h_{t−1} gets (U_nᵀ dZ_n) ⊙ r_t.
PyTorch's and 11-785's GRU (``gru``) applies r after the product, with a bias b_hn inside: another
function, with other gradients.  Inputs are numbers at each step (X is T×d×m, labelled by a teacher), or
a review's words (``build("words")``: x_t = E[:, w_t], sentiment from the shipped corpus).
"""

from derive import VecNetwork, binary_cross_entropy, embed, hadamard, sigmoid, tanh, with_training
from derive.convention import with_convention
from derive.nlp.task import TextTask, vocabulary, with_task

CONVENTION = "d2l's and Cho et al.'s", "n_t = tanh(W_n x_t + U_n (r_t ⊙ h_{t−1}) + b_n): r before the product"
# d2l (§10.2) writes the GRU with a batch in rows, R_t = σ(X_t W_xr + H_{t−1} W_hr + b_r), H̃_t for n_t, Z_t for the
# update gate (the same H_t = Z_t ⊙ H_{t−1} + (1 − Z_t) ⊙ H̃_t as here): each of its names is the transpose of ours
NAMES = {
    "d2l §10.2": {
        **{name: own + "ᵀ" for name, own in (("X", "x"), ("H", "h"), ("R", "r"), ("Z", "z"), ("Htilde", "n"))},
        **{f"W_x{g}": f"W_{g}ᵀ" for g in "rz"},
        **{f"W_h{g}": f"U_{g}ᵀ" for g in "rz"},
        **{f"b_{g}": f"b_{g}ᵀ" for g in "rz"},
        "W_xh": "W_nᵀ",
        "W_hh": "U_nᵀ",
        "b_h": "b_nᵀ",
    }
}


def build(inputs: str = "numbers") -> VecNetwork:
    """The GRU over numbers at each step (``inputs="numbers"``) or over a review's words (``"words"``)."""
    words = inputs == "words"
    net = VecNetwork(
        "gru_d2l_sentiment" if words else "gru_d2l",
        doc="a GRU in d2l's and Cho et al.'s convention (the reset gate on h before the product), a label from the"
        + (" last state of a review's words" if words else " last state"),
    )
    d, nh, k = net.dims(d=8 if words else 3, nh=16 if words else 8, k=1)  # inputs, hidden units, outputs
    if words:
        nV = net.dims(nV=len(vocabulary("sentiment")))
        E = net.param("E", (d, nV))
    W_r, U_r, b_r = net.param("W_r", (nh, d)), net.param("U_r", (nh, nh)), net.param("b_r", (nh, 1))
    W_z, U_z, b_z = net.param("W_z", (nh, d)), net.param("U_z", (nh, nh)), net.param("b_z", (nh, 1))
    W_n, U_n, b_n = net.param("W_n", (nh, d)), net.param("U_n", (nh, nh)), net.param("b_n", (nh, 1))
    net.sequence("T", 24 if words else 6)
    with net.step():
        x = net.let("x", embed(E, net.indices("w", 1, nV))) if words else net.input("x", d)
        h_prev = net.state("h", nh)
        r = net.let("r", sigmoid(W_r @ x + U_r @ h_prev + b_r))  # reset gate
        z = net.let("z", sigmoid(W_z @ x + U_z @ h_prev + b_z))  # update gate
        n_t = net.let("n", tanh(W_n @ x + U_n @ hadamard(r, h_prev) + b_n))  # r before the product
        net.let("h", hadamard(z, h_prev) + hadamard(1 - z, n_t))
    Y = net.target("Y", k)
    V, c = net.param("V", (k, nh)), net.param("c", (k, 1))
    net.cost(binary_cross_entropy(sigmoid(V @ net.handles["h"] + c), Y))
    with_convention(net, *CONVENTION, other=lambda: _pytorch(inputs), names=NAMES)
    if words:
        return with_task(net, TextTask("sentiment", {"epochs": 40, "lr": 0.5, "batch": 16, "seed": 0, "clip": 5.0}, 24))
    return with_training(net, epochs=300, lr=0.05)


def _pytorch(inputs: str) -> VecNetwork:
    from derive.catalogue import load

    return load("gru", inputs=inputs)


def model(inputs: str = "numbers") -> VecNetwork:
    """The trained model: the same declaration; ``inputs="words"`` is the one ``chainrule nlp`` trains on the
    shipped reviews (x_t = E[:, w_t])."""
    return build(inputs)
