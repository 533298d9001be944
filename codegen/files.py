"""Writing output files: atomically, so a failure never leaves half a file."""

from __future__ import annotations

import os
import tempfile


def write_atomic(path: str, content: str | bytes) -> None:
    """Write ``content`` to ``path`` via a temporary file in the same folder and a rename."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    data = content.encode("utf-8") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(prefix=".chainrule-", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
