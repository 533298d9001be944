"""word2vec skip-gram with negative sampling: J = −log σ(u_oᵀv_c) − Σ_k log σ(−u_kᵀv_c) (cs224n assignment 2; J&M ch. 6).

Each column is one (center, outside) pair of the shipped LM corpus with K = 10 negative samples
w_1 … w_K drawn from the unigram distribution raised to the power ¾ (Mikolov et al. 2013):
the center vector v_c = V[:, c], the looked-up outside vectors U_O = U[:, O] of O = [o; w_1; …; w_K]
(one column of U_O is the d×(K + 1) matrix [u_o u_{w_1} … u_{w_K}]), their scores s = U_Oᵀ v_c,
ŷ = σ(s), and the binary cross-entropy against y = [1; 0; …; 0] (the outside word is a real
context word, each sample is not): −log σ(u_oᵀv_c) − Σ_k log(1 − σ(u_kᵀv_c)), which is cs224n's
J since 1 − σ(x) = σ(−x).  Skip-gram sums over the window: the cost sums the columns.  The
derivation gives ds = ŷ − y, so ∂J/∂v_c = U_O ds = (σ(u_oᵀv_c) − 1) u_o + Σ_k σ(u_kᵀv_c) u_k,
cs224n's −(1 − σ(u_oᵀv_c)) u_o + Σ_k (1 − σ(−u_kᵀv_c)) u_k; dU_O = v_c dsᵀ holds ∂J/∂u_o and every
∂J/∂u_k; dU = scatter_add(dU_O, O) adds them into U's columns, so a word drawn twice has its
two terms summed (cs224n's ∂J/∂u_{w_s} = Σ_{k: w_k = w_s} (1 − σ(−u_{w_k}ᵀv_c)) v_c).
"""

from derive import VecNetwork, binary_cross_entropy, dots, embed, sigmoid
from derive.nlp.task import TextTask, vocabulary, with_task

TRAINING = {"epochs": 12, "lr": 0.05, "batch": 16, "seed": 0, "optimizer": "sgd"}


def build() -> VecNetwork:
    net = VecNetwork(
        "word2vec_negative",
        doc="word2vec skip-gram with negative sampling (cs224n assignment 2)",
    )
    d, nV, K = net.dims(d=16, nV=len(vocabulary("lm")), K=10)
    V = net.param("V", (d, nV))  # center vectors v_w, one column per word
    U = net.param("U", (d, nV))  # outside vectors u_w
    c = net.indices("c", 1, nV)  # the center word of each pair
    O = net.indices("O", K + 1, nV)  # the outside word o, then the K negative samples w_1 … w_K
    y = net.target("y", K + 1)  # 1 for o, 0 for each sample
    v_c = net.let("v_c", embed(V, c))
    U_O = net.let("U_O", embed(U, O))  # per column: [u_o u_{w_1} … u_{w_K}]
    s = net.let("s", dots(U_O, v_c))  # u_oᵀ v_c and every u_kᵀ v_c
    yhat = net.let("yhat", sigmoid(s))
    net.cost(net.m * binary_cross_entropy(yhat, y))  # skip-gram: summed over the window's pairs
    return with_task(net, TextTask("skipgram", TRAINING, window=2))


def model() -> VecNetwork:
    """The trained model: the same declaration."""
    return build()
