"""Writing output files: atomically, so a failure never leaves half a file."""

from __future__ import annotations

import os
import tempfile
from importlib.resources.abc import Traversable


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


def copy_resources(source: Traversable, folder: str | os.PathLike) -> list[str]:
    """Copy a folder of package data (``importlib.resources``) into ``folder``, file by file; the paths written."""
    written = []
    for entry in sorted(source.iterdir(), key=lambda e: e.name):
        target = os.path.join(folder, entry.name)
        if entry.is_dir():
            written += copy_resources(entry, target)
        else:
            write_atomic(target, entry.read_bytes())
            written.append(target)
    return written
