"""How a generated module computes each loss: from the logits where the output and the loss match (stable),
else from the output; and the loss's kind, which decides the task (binary, multiclass, regression)."""

LOGIT_LOSS = {
    ("sigmoid", "binary_cross_entropy"): "binary_cross_entropy_logits",
    ("softmax", "cross_entropy"): "cross_entropy_logits",
}
PLAIN_LOSS = {"binary_cross_entropy": "binary_cross_entropy", "cross_entropy": "cross_entropy", "mse": "squared_error"}
LOSS_KIND = {"binary_cross_entropy": "bce", "cross_entropy": "ce", "mse": "se"}


def loss_code(printer, function: str, loss: str, Z: str, A: str, Y: str) -> tuple[str, bool]:
    """(code, from the logits?) of the per-example loss of output ``A = function(Z)`` against ``Y``: from the
    logits Z where the pair has a stable form (log-sum-exp), else from A."""
    helper = LOGIT_LOSS.get((function, loss))
    if helper:
        return printer.use(f"{helper}({Z}, {Y})"), True
    return printer.use(f"{PLAIN_LOSS[loss]}({A}, {Y})"), False
