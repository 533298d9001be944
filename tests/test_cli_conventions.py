"""The command line behaves as the usual tools do: --version, python -m chainrule, quiet on a closed pipe,
status lines on stderr and data on stdout, --json for scripts, progress for the demo's long stages."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import chainrule
from derive.catalogue import names

ROOT = Path(__file__).resolve().parent.parent


def chainrule_cli(*args, cwd=None, **kwargs):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "chainrule", *args], cwd=cwd, env=env, text=True, check=False, **kwargs
    )


def test_version_and_python_m_chainrule(tmp_path):
    done = chainrule_cli("--version", cwd=tmp_path, capture_output=True)
    assert done.returncode == 0 and done.stdout == f"chainrule {chainrule.__version__}\n"
    listed = chainrule_cli("list", cwd=tmp_path, capture_output=True)
    assert listed.returncode == 0 and listed.stderr == ""
    assert [line.split()[0] for line in listed.stdout.splitlines()] == names()


@pytest.mark.parametrize("args", [["list"], ["derive", "two_layer_sigmoid"], ["list", "--json"]])
def test_a_closed_pipe_ends_quietly(args):
    read, write = os.pipe()
    os.close(read)  # the reader is gone before chainrule writes (as `chainrule list | head -0`)
    try:
        done = chainrule_cli(*args, stdout=write, stderr=subprocess.PIPE)
    finally:
        os.close(write)
    assert done.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert done.returncode == 141  # 128 + SIGPIPE, as a shell tool killed by the signal


def test_status_lines_on_stderr_data_on_stdout(tmp_path):
    done = chainrule_cli("generate", "xor", "-o", "xor.py", cwd=tmp_path, capture_output=True)
    assert done.returncode == 0
    assert done.stdout == "" and done.stderr == "wrote xor.py\nwrote test_xor.py\n"
    done = chainrule_cli("nlp", "generate", "sentiment_features", "-o", "s.py", cwd=tmp_path, capture_output=True)
    assert done.returncode == 0 and done.stdout == "" and done.stderr == "wrote s.py\nwrote test_s.py\n"
    done = chainrule_cli("derive", "single_unit", "--wrt", "w1", cwd=tmp_path, capture_output=True)
    assert done.returncode == 0 and done.stderr == "" and done.stdout.startswith("## ∂L/∂w1\nchain rule:")


def test_list_json(tmp_path):
    done = chainrule_cli("list", "--json", cwd=tmp_path, capture_output=True)
    data = json.loads(done.stdout)
    assert data["format"] == 1
    assert [n["name"] for n in data["networks"]] == names()
    assert all(set(n) == {"name", "description"} and n["description"] for n in data["networks"])


def test_derive_json_per_unit(tmp_path):
    done = chainrule_cli(
        "derive", "two_layer_sigmoid", "--wrt", "W11", "b", "--json", cwd=tmp_path, capture_output=True
    )
    assert done.returncode == 0 and done.stderr == ""
    data = json.loads(done.stdout)
    assert (data["network"], data["kind"], data["loss"]) == ("two_layer_sigmoid", "units", "L")
    w11, b = data["gradients"]
    assert w11["wrt"] == "W11" and w11["gradient"] == "a1·w1·x1·(1 − a1)·(ŷ − y)"
    assert w11["sympy"] == "a1*w1*x1*(1 - a1)*(-y + yhat)"
    kinds = [s["kind"] for s in w11["steps"]]
    assert kinds[0] == "chain_rule" and kinds[-1] == "result" and "factor" in kinds and "product" in kinds
    assert all(s["text"] for s in w11["steps"])
    assert w11["check"]["ok"] is True and w11["check"]["rel_error"] <= 1e-6
    assert b["wrt"] == "b" and b["gradient"] == "ŷ − y"


def test_derive_json_layers(tmp_path):
    data = json.loads(chainrule_cli("derive", "one_hidden_layer", "--json", cwd=tmp_path, capture_output=True).stdout)
    assert data["kind"] == "layers" and data["network"] == "one_hidden_layer"
    by_target = {e["target"]: e for e in data["equations"]}
    assert by_target["dW1"]["text"] == "dW1 = (1/m) dZ1 Xᵀ" and by_target["dW1"]["shape"] == ["n1", "n0"]
    assert by_target["dW1"]["direction"] == "backward" and by_target["Z1"]["direction"] == "forward"
    assert [e["number"] for e in data["equations"]] == list(range(1, len(data["equations"]) + 1))


def test_verify_json_claim_and_sheet(tmp_path):
    done = chainrule_cli(
        "verify", "two_layer_sigmoid", "--wrt", "W11", "--claim", "(yhat - y)*w1*a1*a1*x1", "--json",
        cwd=tmp_path, capture_output=True,
    )  # fmt: skip
    assert done.returncode == 1  # the same exit status as without --json
    v = json.loads(done.stdout)
    assert (v["target"], v["wrt"], v["holds"]) == ("∂L/∂W11", "W11", False)
    assert v["hint"] == "a1 written for (1 − a1)"
    assert set(v["counterexample"]) == {"point", "claimed", "true", "note"}
    assert isinstance(v["counterexample"]["claimed"], float) and v["counterexample"]["point"]["W11"] == 1.875
    sheet = ROOT / "codegen" / "sheets" / "two_layer_sigmoid.txt"
    done = chainrule_cli(
        "verify", "two_layer_sigmoid", "--claims", str(sheet), "--json", cwd=tmp_path, capture_output=True
    )
    data = json.loads(done.stdout)
    assert done.returncode == 0 and data["hold"] == data["total"] == len(data["claims"]) > 3
    assert all(c["holds"] and isinstance(c["line"], int) for c in data["claims"])


@pytest.mark.parametrize(
    ("argv", "message", "place"),
    [
        (["derive", "no_such_net", "--json"], "unknown network 'no_such_net'", None),
        (["derive", "xor", "--json", "--wrt", "w11"], "unknown name 'w11' (did you mean 'W11' or 'w1'?)", "--wrt"),
        (["handout", "xor", "-o", "x.txt", "--json"], "the output name must end in .tex", "-o"),
        (["generate", "xor", "-o", "m.txt", "--json"], "the output must be a .py file", "m.txt"),
        (["verify", "xor", "--json", "--claims", "nosheet"], "no such claims file 'nosheet'", None),
        (["derive", "--json"], "the following arguments are required: SPEC", None),
        (["derive", "xor", "--json", "--jsno"], "unrecognized arguments: --jsno (did you mean '--json'?)", None),
    ],
)
def test_with_json_errors_are_json_too(tmp_path, capsys, monkeypatch, argv, message, place):
    """With --json, bad input is a JSON object on stdout (and the one line on stderr), exit status 2."""
    from codegen.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    out, err = capsys.readouterr()
    error = json.loads(out)["error"]
    assert message in error["message"] and error["place"] == place and error["status"] == 2
    assert len([line for line in err.splitlines() if "error:" in line]) == 1 and message in err
    assert list(tmp_path.iterdir()) == []


def test_handout_and_generate_say_what_they_wrote_in_json(tmp_path, capsys, monkeypatch):
    from codegen.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["generate", "xor", "-o", "x.py", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"format": 1, "network": "xor", "written": ["x.py", "test_x.py"]}
    assert main(["handout", "xor", "-o", "x.html", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"format": 1, "network": "xor", "written": ["x.html"]}


@pytest.mark.parametrize(
    ("argv", "suggestion"),
    [
        (["derive", "mpl"], "did you mean 'residual_mlp', 'l2_mlp', 'l1_mlp' or 'dropout_mlp'?"),
        (["derive", "two_layr_sigmoid"], "did you mean 'two_layer_sigmoid'"),
        (["derive", "two_layer_sigmoid", "--wrt", "w11"], "did you mean 'W11' or 'w1'?"),
        (["dervie", "xor"], "did you mean 'derive'?"),
        (["derive", "xor", "--jsno"], "did you mean '--json'?"),
        (["handout", "xor", "--engine", "pdflatx"], "did you mean 'pdflatex'?"),
        (["handout", "xor", "--exampel", "a"], "did you mean '--example'?"),
        (["verify", "two_layer_sigmoid", "--claims", "mistaks"], "did you mean 'mistakes'"),
        (["nlp", "generate", "rnn_ln", "-o", "m.py"], "did you mean 'rnn_lm'"),
    ],
)
def test_a_typo_gets_a_suggestion(tmp_path, capsys, monkeypatch, argv, suggestion):
    from codegen.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert suggestion in err and len([line for line in err.splitlines() if "error:" in line]) == 1, err


def test_handout_help_names_every_output():
    done = chainrule_cli("handout", "--help", capture_output=True)
    assert done.returncode == 0
    for output in ("NAME.tex", "NAME.html", "NAME.ipynb", "--slides", "--pdf"):
        assert output in done.stdout, output


def test_the_shipped_claim_sheets_are_named_from_any_folder(tmp_path, capsys, monkeypatch):
    from codegen.cli import main

    monkeypatch.chdir(tmp_path)
    assert main(["verify", "two_layer_sigmoid", "--claims", "mistakes"]) == 1  # every claim on it is wrong
    assert "0 of 6 claims hold" in capsys.readouterr().out
    assert main(["verify", "two_layer_sigmoid", "--claims", "two_layer_sigmoid.txt"]) == 0
    assert main(["verify", "two_layer_sigmoid", "--steps", "steps_two_layer_sigmoid"]) == 0
    (tmp_path / "mistakes").write_text("W11: x1\n", encoding="utf-8")  # a file here comes first
    capsys.readouterr()
    assert main(["verify", "two_layer_sigmoid", "--claims", "mistakes"]) == 1
    assert "0 of 1 claims hold" in capsys.readouterr().out


def test_ctrl_c_is_one_line(monkeypatch, capsys):
    from codegen.cli import app, cmd_list

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cmd_list, "run", interrupted)
    assert app.main(["list"]) == 130
    out, err = capsys.readouterr()
    assert out == "" and err == "chainrule: interrupted (Ctrl-C); no file was left half-written\n"


def test_nlp_report_shows_progress_and_explains_its_options(tmp_path, capsys, monkeypatch):
    from codegen.cli import cmd_nlp, main
    from codegen.emit import nlp_module

    monkeypatch.setattr(cmd_nlp, "train_and_measure", lambda name, folder, data=None: {"name": name, "ok": True})
    monkeypatch.setattr(cmd_nlp, "report_text", lambda rows: "report\n")
    assert main(["nlp", "report", "-o", str(tmp_path)]) == 0
    err = capsys.readouterr().err.splitlines()
    todo = nlp_module.names()
    assert err == [f"chainrule: nlp report: training NLP model {n} on the shipped data ({k}/{len(todo)})"
                   for k, n in enumerate(todo, 1)]  # fmt: skip
    done = chainrule_cli("nlp", "report", "--help", capture_output=True)
    assert "report.txt" in done.stdout and "--data DIR" in done.stdout


def test_demo_parts_report_progress_on_stderr(tmp_path, capsys):
    from codegen.cli import cmd_verify

    assert cmd_verify.demo(str(tmp_path))
    out, err = capsys.readouterr()
    assert "demo: checking 4 example claim sheets" in err and "wrote the verification" in err
    assert "wrote" not in out and out.count(": ok") == 4


# The command line loads what a command needs (codegen/cli/app.py): --version and list never import SymPy.
LOADED = """import runpy, sys
sys.argv = ["chainrule", *sys.argv[1:]]
try:
    runpy.run_module("chainrule", run_name="__main__", alter_sys=True)
except SystemExit:
    pass
print(" ".join(sorted({m.split(".")[0] for m in sys.modules} & {"sympy", "derive", "numpy", "jinja2", "lark"})), file=sys.stderr)
"""


def loaded_packages(*args, cwd):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run(
        [sys.executable, "-c", LOADED, *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    return done.stdout, set(done.stderr.splitlines()[-1].split())


@pytest.mark.parametrize("args", [["--version"], ["--vers"], ["list"], ["list", "--json"]])
def test_version_and_list_never_import_sympy(args, tmp_path):
    out, loaded = loaded_packages(*args, cwd=tmp_path)
    assert out.startswith(("chainrule ", "computation_graph ", "{"))
    assert loaded == set(), f"chainrule {' '.join(args)} imported {loaded}"


def test_derive_imports_no_emitter_or_template(tmp_path):
    out, loaded = loaded_packages("derive", "two_layer_sigmoid", "--wrt", "W11", cwd=tmp_path)
    assert out.startswith("## ∂L/∂W11\nchain rule:")
    assert "sympy" in loaded and not loaded & {"jinja2", "lark"}


def test_list_reads_the_catalogue_as_derive_does():
    from codegen.cli.cmd_list import catalogue_rows
    from derive.catalogue import describe

    assert catalogue_rows() == [(name, describe(name)) for name in names()]


def test_only_the_named_command_is_loaded():
    from codegen.cli.app import build_parser, command_names, needed

    every = command_names()
    assert every[:3] == ["list", "derive", "demo"] and {"generate", "handout", "nlp", "verify"} <= set(every)
    assert needed(["generate", "xor", "-o", "x.py"]) == ["generate"]
    assert needed(["--version"]) == needed(["--ver"]) == []
    assert needed([]) == needed(["-h"]) == needed(["--help"]) == needed(["genrate"]) == needed(["--", "list"]) == every
    help_text = build_parser(["--help"]).format_help()
    assert all(name in help_text for name in every)


def test_json_has_no_bare_nan(capsys):
    """JSON has no NaN or infinity: a number that is not finite is null."""
    from codegen.cli import jsonout

    jsonout.dump({"values": [float("nan"), 1.5, {"inf": float("-inf")}]})
    assert json.loads(capsys.readouterr().out) == {"format": 1, "values": [None, 1.5, {"inf": None}]}


def test_a_bug_of_ours_is_one_line_exit_70_and_its_traceback_on_request(monkeypatch, capsys):
    from codegen.cli import app

    def broken(args):
        raise RuntimeError("a\nstate the code\tnever expected")

    monkeypatch.setattr(app, "run", broken)
    monkeypatch.delenv("CHAINRULE_DEBUG", raising=False)
    assert app.main(["list"]) == app.EXIT_INTERNAL == 70
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(
        "chainrule: internal error: RuntimeError: a state the code never expected at test_cli_conventions.py:"
    )
    assert "a bug in chainrule" in err and "CHAINRULE_DEBUG=1" in err
    monkeypatch.setenv("CHAINRULE_DEBUG", "1")
    with pytest.raises(RuntimeError):
        app.main(["list"])
