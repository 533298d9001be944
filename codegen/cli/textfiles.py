"""Reading a user's text file defensively: a folder, a FIFO or a device, a file too large, binary or
not UTF-8 is a reason (one line), never a hang, a traceback or mojibake.  UTF-8 with or without its
byte-order mark is read, and UTF-16 with one (Windows Notepad)."""

from __future__ import annotations

import os
import stat


def read_text(path: str, max_bytes: int) -> tuple[str, str | None]:
    """(the text, None), or ("", why it cannot be read).  Never opens what is not a regular file (a FIFO
    would block, /dev/zero never ends), never reads more than ``max_bytes``."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "", "no such file"
    except OSError as exc:
        return "", f"cannot be read ({exc.strerror})"
    if stat.S_ISDIR(info.st_mode):
        return "", "a folder, not a file"
    if not stat.S_ISREG(info.st_mode):
        return "", "not a regular file (a FIFO, a device or a socket)"
    if info.st_size > max_bytes:
        return "", f"the file is too large ({info.st_size / 1e6:.1f} MB; at most {max_bytes / 1e6:g} MB)"
    try:
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        return "", f"cannot be read ({exc.strerror})"
    if len(raw) > max_bytes:
        return "", f"the file is too large (over {max_bytes / 1e6:g} MB)"
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), None
        except UnicodeDecodeError:
            return "", "not readable as UTF-16 text"
    if b"\x00" in raw[:8192]:
        return "", "a binary file, not text"
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return "", f"not UTF-8 text (byte 0x{raw[exc.start]:02x} on line {line}); save it as UTF-8"
