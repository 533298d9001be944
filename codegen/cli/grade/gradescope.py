"""Gradescope: the autograder bundle (``chainrule grade QUESTIONS --export gradescope -o autograder.zip``)
and the ``results.json`` its ``run_autograder`` writes.

The bundle holds, at its root (as Gradescope wants it):

* ``setup.sh``: run once when Gradescope builds the image: a Python >= 3.11 in a virtual environment,
  and chainrule installed in it from the wheel beside it (its dependencies come from PyPI);
* ``run_autograder``: run for each submission: ``chainrule grade`` on ``/autograder/submission/`` (all
  its .txt, .md and .tex files, as one student), writing ``/autograder/results/results.json`` in
  Gradescope's documented format: one test per question (score, max_score, the feedback as its output);
* ``chainrule-VERSION-py3-none-any.whl``: this chainrule, as it is installed here;
* ``questions.toml`` and ``specs/``: the questions, with the spec files they name.

The zip is deterministic (sorted entries, a fixed date).  ``AUTOGRADER_ROOT`` moves ``/autograder``
(a simulated layout, in the tests); ``CHAINRULE_PYTHON`` names an interpreter that has chainrule
(or gets it from ``setup.sh``, with ``CHAINRULE_PIP_OPTIONS``).
"""

from __future__ import annotations

import base64
import hashlib
import importlib.metadata
import io
import json
import os
import re
import zipfile

from derive import ChainruleError

from ...emit.files import check_writable, write_atomic
from .questions import Questions
from .reports import Grade, number, question_md

PACKAGES = ("chainrule", "derive", "codegen")
DATE = (1980, 1, 1, 0, 0, 0)

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image: a Python >= 3.11 in a
# virtual environment (venv/, beside this script), and chainrule in it from the wheel beside this script.
set -euo pipefail
SOURCE="$(cd "$(dirname "$0")" && pwd)"
WHEEL="$(ls "$SOURCE"/chainrule-*.whl)"
if [ -n "${CHAINRULE_PYTHON:-}" ]; then  # an interpreter of your own (or a test's): install into it
    # shellcheck disable=SC2086
    "$CHAINRULE_PYTHON" -m pip install --disable-pip-version-check -q ${CHAINRULE_PIP_OPTIONS:-} "$WHEEL"
    exit 0
fi
PY=""
for candidate in python3.13 python3.12 python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        PY="$candidate"
        break
    fi
done
if [ -z "$PY" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv >/dev/null
    PY=python3.11
fi
if ! "$PY" -m venv "$SOURCE/venv" 2>/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$(basename "$PY")-venv" >/dev/null || true
    "$PY" -m venv "$SOURCE/venv"
fi
"$SOURCE/venv/bin/python" -m pip install --disable-pip-version-check -q "$WHEEL"
"$SOURCE/venv/bin/python" -m chainrule --version
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for each submission: chainrule grade on /autograder/submission/ (its .txt, .md
# and .tex files, as one student), writing /autograder/results/results.json (one test per question).
set -uo pipefail
ROOT="${AUTOGRADER_ROOT:-/autograder}"
SOURCE="$ROOT/source"
PYTHON="${CHAINRULE_PYTHON:-$SOURCE/venv/bin/python}"
RESULTS="$ROOT/results/results.json"
mkdir -p "$ROOT/results"
cd "$ROOT"
if ! "$PYTHON" -m chainrule grade "$SOURCE/questions.toml" "$ROOT/submission" --gradescope-results "$RESULTS"; then
    if [ ! -s "$RESULTS" ]; then
        printf '%s\n' '{"score": 0, "output": "The autograder could not read this submission: upload your answers as .txt, .md or .tex files, one line q1: ... per answer.", "tests": []}' > "$RESULTS"
    fi
fi
"""


def check_bundle_path(out: str) -> None:
    if not out.endswith(".zip"):
        raise ChainruleError("the Gradescope bundle is a .zip file (e.g. -o autograder.zip)", out)
    check_writable(out)


def export(questions: Questions, out: str) -> None:
    """Write the bundle for ``questions`` to ``out`` (a .zip file)."""
    check_bundle_path(out)
    wheel_name, wheel = build_wheel()
    toml, specs = bundled_questions(questions)
    entries = {
        "setup.sh": (SETUP_SH, 0o755),
        "run_autograder": (RUN_AUTOGRADER, 0o755),
        wheel_name: (wheel, 0o644),
        "questions.toml": (toml, 0o644),
        **{f"specs/{name}": (data, 0o644) for name, data in specs.items()},
    }
    write_atomic(out, _zip(entries))


def _zip(entries: dict) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            data, mode = entries[name]
            info = zipfile.ZipInfo(name, DATE)
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data.encode("utf-8") if isinstance(data, str) else data)
    return buffer.getvalue()


def bundled_questions(questions: Questions) -> tuple[str, dict[str, bytes]]:
    """The questions as TOML, with each spec file named ``specs/NAME`` (and those files' contents)."""
    specs: dict[str, bytes] = {}
    names: dict[str, str] = {}
    for q in questions.questions:
        if q.from_file and q.source not in names:
            base, n = os.path.basename(q.source), 1
            while base in specs:
                n += 1
                base = re.sub(r"\.py$", f"_{n}.py", os.path.basename(q.source))
            with open(q.source, "rb") as handle:
                specs[base] = handle.read()
            names[q.source] = f"specs/{base}"
    lines = []
    if questions.title:
        lines.append(f"title = {_toml(questions.title)}")
    for q in questions.questions:
        lines += ["", "[[question]]", f"id = {_toml(q.id)}", f"spec = {_toml(names.get(q.source, q.spec))}"]
        lines += [f"wrt = {_toml(q.wrt)}", f"points = {number(q.points)}", f"kind = {_toml(q.kind)}"]
        if q.title:
            lines.append(f"title = {_toml(q.title)}")
    return "\n".join(lines).lstrip("\n") + "\n", specs


def _toml(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def build_wheel() -> tuple[str, bytes]:
    """This chainrule as a wheel (pure Python), made from the installed packages' files."""
    from chainrule import __version__

    dist = f"chainrule-{__version__}.dist-info"
    files: dict[str, bytes] = {}
    for package in PACKAGES:
        root = os.path.dirname(os.path.abspath(__import__(package).__file__))
        for folder, subfolders, names in os.walk(root):
            subfolders[:] = sorted(d for d in subfolders if d != "__pycache__" and not d.startswith("."))
            for name in sorted(names):
                if name.endswith((".pyc", ".pyo")) or name.startswith("."):
                    continue
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    files[f"{package}/{os.path.relpath(path, root).replace(os.sep, '/')}"] = handle.read()
    requires = [r for r in (importlib.metadata.requires("chainrule") or []) if "extra ==" not in r]
    metadata = [
        "Metadata-Version: 2.1",
        "Name: chainrule",
        f"Version: {__version__}",
        "Summary: Derive, explain and generate neural-network training code by the chain rule",
        "Requires-Python: >=3.11",
        *(f"Requires-Dist: {r}" for r in requires),
    ]
    files[f"{dist}/METADATA"] = ("\n".join(metadata) + "\n").encode()
    files[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: chainrule\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{dist}/entry_points.txt"] = b"[console_scripts]\nchainrule = codegen.cli:main\n"
    files[f"{dist}/top_level.txt"] = ("\n".join(PACKAGES) + "\n").encode()
    record = [f"{name},sha256={_digest(data)},{len(data)}" for name, data in sorted(files.items())]
    files[f"{dist}/RECORD"] = ("\n".join([*record, f"{dist}/RECORD,,"]) + "\n").encode()
    return f"chainrule-{__version__}-py3-none-any.whl", _zip({name: (data, 0o644) for name, data in files.items()})


def _digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def results(questions: Questions, submission, grades: list[Grade]) -> dict:
    """Gradescope's results.json for one submission: one test per question, the feedback as its output."""
    tests = []
    for number_, g in enumerate(grades, 1):
        tests.append(
            {
                "name": g.question.heading(),
                "number": str(number_),
                "score": g.points,
                "max_score": g.question.points,
                "status": "passed" if g.outcome.verdict == "holds" else "failed",
                "output": "\n".join(question_md(g)[2:]).strip(),
                "output_format": "md",
            }
        )
    total = round(sum(g.points for g in grades), 2)
    head = f"{number(total)} of {number(questions.max_points)} points, checked by chainrule."
    if submission.problem:
        head += f" Your submission could not be read: {submission.problem}."
    elif not submission.files:
        head += " No .txt, .md or .tex file was found in your submission."
    return {
        "score": total,
        "output": head,
        "output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_results(path: str, questions: Questions, submission, grades: list[Grade]) -> None:
    write_atomic(path, json.dumps(results(questions, submission, grades), ensure_ascii=False, indent=2) + "\n")
