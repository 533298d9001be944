"""How a generated module computes its loss: from the logits where the output activation is the loss's matched
one and the loss record has a stable form from them (log-sum-exp), else from the output."""


def loss_code(printer, activation, loss, Z: str, A: str, Y: str) -> tuple[str, bool]:
    """(code, from the logits?) of the per-example loss record ``loss`` of output ``A = activation(Z)`` (a record,
    or None for no activation) against ``Y``."""
    if loss.numpy_logits and activation is not None and activation.name == loss.matched:
        form = loss.numpy_logits.format(Z, Y, z=Z, zs=Z, ys=Y)
        return printer.use(form), True
    return printer.use(loss.numpy_matrix.format(A, Y, yhats=A, ys=Y)), False
