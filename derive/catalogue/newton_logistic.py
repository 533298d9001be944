"""Logistic regression trained by Newton's method: H = (1/m) X diag(σ(1 − σ)) Xᵀ (CS229 problem set 1; Ng's CS229 notes, part II).

One example per column, as everywhere here: X is n×m, w a 1×n row, b a number, and
J = −(1/m) Σ [y log σ(w x + b) + (1 − y) log(1 − σ(w x + b))].  The engine derives the
gradient (dw = (1/m) dZ Xᵀ with dZ = A − Y), the Hessian-vector product by the
R-operator, and from it the Hessian's blocks: H[w, w] = (1/m) X diag(A ⊙ (1 − A)) Xᵀ,
CS229's (1/m) Xᵀ diag(σ(1 − σ)) X with one example per row.  The labels of the demo
data are drawn from a teacher's probabilities, so the classes overlap and the
maximum-likelihood weights are finite: Newton's method reaches them in a handful of
steps where gradient descent needs hundreds.
"""

from derive import VecNetwork, binary_cross_entropy, sigmoid
from derive.training import with_training


def build() -> VecNetwork:
    net = VecNetwork(
        "newton_logistic", doc="logistic regression, Newton's method: H = (1/m) X diag(σ(1 − σ)) Xᵀ (CS229)"
    )
    n = net.dims(n=3)
    X, Y = net.input("X", n), net.target("Y", 1)
    w, b = net.param("w", (1, n)), net.param("b", (1, 1))
    A = net.let("A", sigmoid(net.let("Z", w * X + b)))
    net.cost(binary_cross_entropy(A, Y))
    return with_training(net, optimizer="newton", epochs=8, lr=1.0, sampled=True)
