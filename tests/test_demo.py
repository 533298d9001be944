"""``chainrule demo``, part by part, on every network: what the quick demo of tests/test_install.py leaves out.

The handouts' PDFs (tests/test_handout_latex.py), the NLP models' training (tests/test_nlp_cli.py) and the
claim sheets (tests/test_verify_cli.py) are tested where they are made; here the derivation part on every
catalogue network, every generated module's own demo training (the module part), and the plan the parts
share: which networks, each derived once, the jobs on worker processes with the results in order.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.cli import cmd_derive, cmd_generate, demo_plan
from derive import ChainruleError, catalogue

ROOT = Path(__file__).resolve().parent.parent
MODULES = [name for name, reason in cmd_generate.golden_names() if reason is None]


def test_the_derivation_part_checks_every_network(tmp_path, capsys):
    assert cmd_derive.demo(str(tmp_path))
    out, err = capsys.readouterr()
    rows = [line.split() for line in out.splitlines()[1:]]
    assert [row[0] for row in rows] == catalogue.names()
    assert all(float(row[-1]) <= 1e-6 for row in rows)
    last = f"transformer_block ({len(rows)}/{len(rows)})"
    assert f"deriving {last}" in err and f"checked {last}" in err  # its progress, both steps
    assert all((tmp_path / name / "derivation.txt").is_file() for name in catalogue.names())


@pytest.mark.parametrize("name", MODULES)
def test_every_generated_module_trains_as_its_own_demo(name):
    # what the module part of the demo runs, on the golden module (byte for byte what the demo writes)
    run = subprocess.run(
        [sys.executable, str(ROOT / "generated" / f"{name}.py")], capture_output=True, text=True, check=False
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1].startswith("final loss")


@pytest.mark.unshared  # outside the plan, nothing is shared
def test_the_plan_selects_shares_and_keeps_order():
    assert demo_plan.networks() == catalogue.names()  # outside a plan: everything, here, one by one
    assert list(demo_plan.run_all(abs, [-3, 2])) == [3, 2]
    with demo_plan.plan(jobs=2, quick=True):
        assert demo_plan.networks() == [n for n in catalogue.names() if n in demo_plan.QUICK]
        assert set(demo_plan.nlp_models()) == set(demo_plan.QUICK_NLP)
        net = catalogue.load("two_layer_sigmoid")
        assert catalogue.load("two_layer_sigmoid") is net and net.derive() is net.derive()
        assert list(demo_plan.run_all(_derived_in_a_worker, ["two_layer_sigmoid", "xor"] * 3)) == [9, 9] * 3
    assert catalogue.load("two_layer_sigmoid") is not catalogue.load("two_layer_sigmoid")


def _derived_in_a_worker(name):
    return len(catalogue.load(name).derive().net.names("param"))


def test_a_worker_that_dies_is_one_line():
    with demo_plan.plan(jobs=2), pytest.raises(ChainruleError, match="a worker process of the demo stopped"):
        list(demo_plan.run_all(os._exit, [3, 3]))
