"""How handouts number what generated code cites: the summary of all the gradients is section 3."""


def summary_label(k: int) -> str:
    """The tag of the k-th parameter's gradient (1-based, parameter order) in section 3's summary,
    "All the gradients"; generated scalar modules cite it on each gradient line."""
    return f"3.{k}"
