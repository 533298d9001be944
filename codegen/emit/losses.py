"""How a generated module computes each loss: from the logits where the output and the loss match (stable),
else from the output; and the loss's kind, which decides the task (binary, multiclass, regression)."""

LOGIT_LOSS = {
    ("sigmoid", "binary_cross_entropy"): "binary_cross_entropy_logits",
    ("softmax", "cross_entropy"): "cross_entropy_logits",
}
PLAIN_LOSS = {"binary_cross_entropy": "binary_cross_entropy", "cross_entropy": "cross_entropy", "mse": "squared_error"}
LOSS_KIND = {"binary_cross_entropy": "bce", "cross_entropy": "ce", "mse": "se"}
