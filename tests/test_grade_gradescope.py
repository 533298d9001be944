"""``chainrule grade QUESTIONS --export gradescope -o autograder.zip``: the bundle, run against a simulated
``/autograder`` layout in a temporary folder, as Gradescope runs it: the zip unpacked into ``source/``,
``setup.sh`` installing chainrule from the wheel inside it, then ``run_autograder`` on a student's upload
in ``submission/``, writing ``results/results.json`` in Gradescope's format."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile

import pytest

from chainrule import __version__
from codegen.cli import main

SPEC = """
from derive import mlp
network = mlp("mse_net", sizes=[2, 3, 1], hidden="tanh", output="sigmoid", loss="mse")
"""
QUESTIONS = """title = "Homework 3"

[[question]]
id = "q1"
spec = "two_layer_sigmoid"
wrt = "W11"
points = 2
title = "∂L/∂W11"

[[question]]
id = "q2"
spec = "specs/mse_net.py"
wrt = "dW1"
points = 3
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gradescope")
    (folder / "specs").mkdir()
    (folder / "specs" / "mse_net.py").write_text(SPEC, encoding="utf-8")
    (folder / "questions.toml").write_text(QUESTIONS, encoding="utf-8")
    zip_path = folder / "autograder.zip"
    assert main(["grade", str(folder / "questions.toml"), "--export", "gradescope", "-o", str(zip_path)]) == 0
    return folder, zip_path


def test_the_bundle_has_what_gradescope_needs_at_its_root(bundle):
    _, zip_path = bundle
    with zipfile.ZipFile(zip_path) as archive:
        names = sorted(archive.namelist())
        info = {i.filename: i for i in archive.infolist()}
        toml = archive.read("questions.toml").decode()
    assert names == [
        f"chainrule-{__version__}-py3-none-any.whl",
        "questions.toml",
        "run_autograder",
        "setup.sh",
        "specs/mse_net.py",
    ]
    assert (info["run_autograder"].external_attr >> 16) & 0o111 and (info["setup.sh"].external_attr >> 16) & 0o111
    assert 'spec = "specs/mse_net.py"' in toml and 'title = "∂L/∂W11"' in toml


def test_the_bundle_is_byte_identical_when_made_again(bundle, tmp_path):
    folder, zip_path = bundle
    again = tmp_path / "again.zip"
    assert main(["grade", str(folder / "questions.toml"), "--export", "gradescope", "-o", str(again)]) == 0
    assert again.read_bytes() == zip_path.read_bytes()


def test_a_bad_export_is_one_line(bundle, tmp_path, capsys):
    folder, _ = bundle
    assert main(["grade", str(folder / "questions.toml"), "--export", "gradescope", "-o", str(tmp_path / "a.tar")]) == 2
    assert "the Gradescope bundle is a .zip file" in capsys.readouterr().err


def test_the_bundle_runs_in_a_simulated_autograder(bundle, tmp_path):
    _, zip_path = bundle
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    (root / "submission").mkdir()
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(root / "source")
    for script in ("setup.sh", "run_autograder"):
        os.chmod(root / "source" / script, 0o755)
    site = tmp_path / "site"
    env = {
        **{k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)},
        "CHAINRULE_PYTHON": sys.executable,
        "CHAINRULE_PIP_OPTIONS": f"--no-deps --no-index --target {site}",
    }
    setup = subprocess.run(
        ["bash", str(root / "source" / "setup.sh")], env=env, capture_output=True, text=True, check=False
    )
    assert setup.returncode == 0, setup.stderr
    assert (site / "codegen" / "cli" / "cmd_grade.py").is_file()  # installed from the wheel

    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")  # where Gradescope puts it
    (root / "submission" / "answers.md").write_text(
        "# My answers\n\n- q1: $(\\hat{y} - y) w_1 a_1 (1 - a_1) x_1$\n- q2: dW1 = (1/m) dZ1 @ X\n", encoding="utf-8"
    )
    run_env = {**env, "AUTOGRADER_ROOT": str(root), "PYTHONPATH": str(site)}
    where = subprocess.run(
        [sys.executable, "-c", "import codegen; print(codegen.__file__)"],
        env=run_env,
        cwd=root,
        capture_output=True,
        check=False,
        text=True,
    )
    assert where.stdout.startswith(str(site))  # the run uses the wheel's chainrule, not this checkout
    run = subprocess.run(
        ["bash", str(root / "run_autograder")], env=run_env, cwd=root, capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 2.0
    assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in results["tests"]] == [
        ("q1: ∂L/∂W11", 2.0, 2.0, "passed"),
        ("q2", 0.0, 3.0, "failed"),
    ]
    assert "Likely slip: a missing transpose: X written for X.T." in results["tests"][1]["output"]
    assert results["output"].startswith("2 of 5 points")

    shutil.rmtree(root / "submission")
    (root / "submission").mkdir()
    (root / "submission" / "scan.pdf").write_bytes(b"%PDF-1.4")
    run = subprocess.run(
        ["bash", str(root / "run_autograder")], env=run_env, cwd=root, capture_output=True, text=True, check=False
    )
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 0.0 and "No .txt, .md or .tex file" in results["output"]
    assert [t["status"] for t in results["tests"]] == ["failed", "failed"]
