"""chainrule as a user installs it: a wheel, in a fresh virtual environment, run from an empty folder.

Slow (it builds the wheel and installs it with its dependencies), but CI runs it: it is the only test that
sees the package without the repository around it.  The demo it runs is the quick one (every part, every
kind of file, on a few networks, on two processes); tests/test_demo.py runs the whole demo from the repository.
"""

import os
import re
import shutil
import subprocess
import sys
import venv
import zipfile
from html import unescape
from pathlib import Path
from urllib.parse import unquote

import pytest

from codegen.cli.demo_plan import QUICK

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = (
    "derive/nlp/data/sentiment/corpus.tsv",
    "derive/nlp/data/sentiment/lexicon.txt",
    "derive/nlp/data/lm/corpus.txt",
    "derive/nlp/data/lm/heldout.txt",
    "codegen/sheets/mistakes.txt",
    "codegen/sheets/demo_class/questions.toml",
    "codegen/sheets/demo_class/submissions/farid.txt",
    "codegen/templates/handout.tex.jinja",
    "codegen/templates/text_data.py.jinja",
    "chainrule/__main__.py",
)


# nothing of this checkout may leak into the fresh environment (PYTHONPATH would show pip this tree's chainrule)
CLEAN_ENV = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}


def run(command, **kwargs):
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=1800, env=CLEAN_ENV, **kwargs)
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


@pytest.mark.slow
def test_wheel_in_a_fresh_venv_runs_the_demo_from_an_empty_folder(tmp_path):
    # build from a copy of the sources, so the build leaves nothing in the repository
    source = tmp_path / "source"
    shutil.copytree(
        ROOT,
        source,
        ignore=shutil.ignore_patterns(
            ".git", ".venv", "build", "*.egg-info", "__pycache__", ".*cache", "chainrule-demo"
        ),
    )
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(source)])
    (wheel,) = (tmp_path / "dist").glob("chainrule-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in SHIPPED:
        assert path in names, f"{path} is not in the wheel"
    assert any(n.endswith((".dist-info/licenses/LICENSE", ".dist-info/LICENSE")) for n in names)
    assert not any(n.startswith(("data/", "docs/", "tests/")) for n in names)

    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True, system_site_packages=False)
    python = env_dir / "bin" / "python"
    # --no-compile: Python compiles what the demo imports as it imports it; pip would compile all of SymPy first
    run([str(python), "-m", "pip", "install", "-q", "--no-compile", str(wheel)])
    isolated = run([str(python), "-c", "import sys, numpy; print(sys.prefix, numpy.__file__)"]).stdout
    assert str(env_dir) in isolated.split()[1], "numpy must come from the fresh environment, not the system"

    empty = tmp_path / "empty"
    empty.mkdir()
    version = run([str(python), "-m", "chainrule", "--version"], cwd=empty).stdout
    assert version.startswith("chainrule ")
    demo = run([str(env_dir / "bin" / "chainrule"), "demo", "--quick", "--jobs", "2", "-o", "out"], cwd=empty)
    assert "Traceback" not in demo.stdout + demo.stderr
    out = empty / "out"
    assert (out / "nlp" / "report.txt").is_file()
    assert (out / "data" / "lm" / "corpus.txt").read_bytes() == (ROOT / "derive/nlp/data/lm/corpus.txt").read_bytes()
    assert (out / "verify" / "sheets" / "mistakes.txt").is_file()
    assert (out / "grade" / "report" / "grades.csv").read_bytes() == (ROOT / "docs/demo_class/grades.csv").read_bytes()
    assert (out / "generated" / "ffnn_lm.py").is_file()
    assert (out / "two_layer_sigmoid" / "handout.pdf").is_file() and (out / "elman_rnn" / "derivation.txt").is_file()
    assert "every part succeeded" in demo.stderr
    assert sorted(p.name for p in empty.iterdir()) == ["out"], "the demo writes only into its output folder"
    # it ends by naming its index, which links every network's files, each of which exists
    assert demo.stderr.rstrip().splitlines()[-1].endswith("out/index.html"), demo.stderr[-300:]
    page = (out / "index.html").read_text(encoding="utf-8")
    links = {unquote(unescape(h)) for h in re.findall(r'href="([^"]+)"', page)}
    assert all((out / link).is_file() for link in links)
    media = ("handout.pdf", "handout.html", "handout.ipynb", "slides.pdf", "derivation.txt")
    assert {f"{name}/{file}" for name in QUICK for file in media} <= links
