"""The handouts compile with the real toolchain and their PDFs say the lecture's results.

In CI (``CI`` set) TeX Live is installed by scripts/setup.sh and nothing
here may skip; elsewhere the compile tests skip when pdflatex is missing.
"""

import os
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest

from codegen.cli import cmd_handout, demo_plan, main
from codegen.handout import latex_build
from derive import ChainruleError
from derive.catalogue import names

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "docs" / "handouts"
MAX_OVERFULL_PT = 3.0


def need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing in CI (scripts/setup.sh installs it)")
        pytest.skip(f"{tool} is not installed")


# What each PDF must say (whitespace removed, Unicode NFC): the lecture's results.
KEY_RESULTS = {
    "computation_graph": ["L=ce=(−2)·5=−10", "∂L/∂a=−2", "∂L/∂b=−4", "∂L/∂c=5"],
    "single_unit": ["σ(0.87)=0.7047", "(ŷ−y)ŷ(1−ŷ)x1"],
    "logistic_regression": ["=ŷ−y", "(ŷ−y)x1"],
    "two_layer_sigmoid": ["=ŷ−y", "(ŷ−y)w1a1(1−a1)x1", "(ŷ−y)a1", "dZ[2]=A[2]−Y"],
    "two_layer_relu": ["=ŷ−y", "dZ[2]=A[2]−Y"],
    "xor": ["(ŷ−y)w1", "dZ[2]=A[2]−Y"],
    "softmax_layer": ["0.05483", "0.09039", "0.7382", "=ŷ1−y1", "(ŷ1−y1)x1", "y1+y2+y3+y4+y5+y6=1"],
    "two_layer_softmax": ["(ŷ1−y1)h1", "dZ[2]=A[2]−Y"],
    "sentiment_features": ["=ŷ−y"],
    "sentiment_features_2layer": ["=ŷ−y"],
    "one_hidden_layer": ["dZ[2]=A[2]−Y", "dW[1]=", "Through(4)A[2]=σ(Z[2])"],
    "batchnorm_mlp": ["Z[1]=W[1]X", "dZ[2]=A[2]−Y", "Through(6)", "Aworkedexample"],
    "lstm_cell": ["ct=ct−1⊙Γf,t+c̃t⊙Γu,t", "tostept+1", "Aworkedexample"],
}


def pdf_text(pdf: Path) -> str:
    out = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    return "".join(unicodedata.normalize("NFC", out).split())


@pytest.mark.parametrize("name", names())
def test_each_checked_in_handout_compiles_cleanly_and_says_its_results(name, tmp_path):
    need("pdflatex")
    need("pdftotext")
    tex = tmp_path / f"{name}.tex"
    shutil.copyfile(GOLDEN / f"{name}.tex", tex)
    build = latex_build.compile_pdf(tex)
    assert build.pdf.exists()
    too_wide = [(pt, where) for pt, where in build.overfull() if pt > MAX_OVERFULL_PT]
    assert not too_wide, too_wide
    assert "LaTeX Warning: Reference" not in build.log
    text = pdf_text(build.pdf)
    for result in KEY_RESULTS.get(name, []):
        assert result in text, result
    assert not list(tmp_path.glob("*.aux"))  # the build ran elsewhere; only the PDF lands here


def test_cli_pdf_and_a_latex_failure_reported_with_its_line(tmp_path, capsys, monkeypatch):
    need("pdflatex")
    out = tmp_path / "h.tex"
    assert main(["handout", "computation_graph", "-o", str(out), "--pdf"]) == 0
    assert (tmp_path / "h.pdf").read_bytes().startswith(b"%PDF")
    assert capsys.readouterr().err == f"wrote {out}\nwrote {tmp_path / 'h.pdf'}\n"  # status lines on stderr
    broken = "\\documentclass{article}\n\\begin{document}\nfine\n\\frac{1}\n\\undefinedcommand\n\\end{document}\n"
    monkeypatch.setattr(cmd_handout, "render", lambda net, options: broken)
    bad = tmp_path / "bad.tex"
    assert main(["handout", "computation_graph", "-o", str(bad), "--pdf"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"chainrule: error: {bad}:") and "LaTeX failed:" in err[0]
    line = int(err[0].split(f"{bad}:")[1].split(":")[0])
    assert bad.read_text().splitlines()[line - 1] in ("\\frac{1}", "\\undefinedcommand")
    assert not (tmp_path / "bad.pdf").exists()


def test_first_error_reads_the_log():
    log = "This is pdfTeX\n./x.tex:12: Undefined control sequence.\nl.12 \\foo\n! Emergency stop.\n"
    assert latex_build.first_error(log) == ("Undefined control sequence.", 12)
    log = "! Missing $ inserted.\n<inserted text>\n$\nl.7 a_1\n"
    assert latex_build.first_error(log) == ("Missing $ inserted.", 7)


def test_pdf_without_pdflatex_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(latex_build.shutil, "which", lambda tool: None)
    tex = tmp_path / "x.tex"
    tex.write_text("x")
    with pytest.raises(ChainruleError, match="needs pdflatex"):
        latex_build.compile_pdf(tex)


def test_demo_writes_handouts_and_pdfs(tmp_path, monkeypatch):
    need("pdflatex")
    monkeypatch.setattr(demo_plan, "networks", lambda: ["computation_graph", "single_unit"])
    assert cmd_handout.demo(str(tmp_path))
    for name in ("computation_graph", "single_unit"):
        assert (tmp_path / name / "handout.tex").exists()
        assert (tmp_path / name / "handout.pdf").exists()


def test_a_batch_only_handout_compiles(tmp_path):
    need("pdflatex")
    need("pdftotext")
    spec = tmp_path / "big.py"
    spec.write_text(
        "from derive import mlp\n"
        "network = mlp('mnist_mlp', sizes=[784, 128, 10], hidden='relu', output='softmax', loss='cross_entropy')\n"
    )
    out = tmp_path / "big.tex"
    assert main(["handout", str(spec), "-o", str(out), "--pdf"]) == 0
    build = latex_build.compile_pdf(out)
    assert not [o for o in build.overfull() if o[0] > MAX_OVERFULL_PT]
    assert "dZ[2]=A[2]−Y" in pdf_text(build.pdf)
