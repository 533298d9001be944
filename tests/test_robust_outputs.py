"""Output files and numerics that once broke: atomic writes that leave no temporary file and never a module
without its test file (also on SIGTERM), names with _ or letters outside ASCII in a handout's PDF, a
probability the loss reads that is not its matched activation's (no NaN at saturation)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import warnings

import numpy as np
import pytest

from codegen.cli import main
from codegen.emit import files
from derive import ChainruleError


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".chainrule-"))


def test_all_files_or_none_and_no_temporary_file(tmp_path, monkeypatch):
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 2:
            raise OSError(28, "No space left on device", dst)
        real_replace(src, dst)

    monkeypatch.setattr(files.os, "replace", failing_replace)
    test_file, module = tmp_path / "test_m.py", tmp_path / "m.py"
    with pytest.raises(ChainruleError, match="cannot write: No space left on device"):
        files.write_all_atomic([(str(test_file), "tests"), (str(module), "module")])
    assert test_file.exists() and not module.exists()  # the tests may stand alone; the module never does
    assert leftovers(tmp_path) == []


def test_sigterm_while_writing_leaves_nothing(tmp_path, monkeypatch):
    def killed_replace(src, dst):
        os.kill(os.getpid(), signal.SIGTERM)  # the handler raises at once, before the rename
        raise AssertionError("SIGTERM did not interrupt the write")

    monkeypatch.setattr(files.os, "replace", killed_replace)
    with pytest.raises(files.Terminated):
        files.write_all_atomic([(str(tmp_path / "test_m.py"), "tests"), (str(tmp_path / "m.py"), "module")])
    assert list(tmp_path.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL or callable(signal.getsignal(signal.SIGTERM))


def test_generate_writes_the_tests_before_the_module(tmp_path, monkeypatch):
    order = []
    real_replace = os.replace
    monkeypatch.setattr(files.os, "replace", lambda s, d: (order.append(os.path.basename(d)), real_replace(s, d)))
    assert main(["generate", "xor", "-o", str(tmp_path / "x.py")]) == 0
    assert order == ["test_x.py", "x.py"] and leftovers(tmp_path) == []


UNICODE_SPEC = """from derive import Network, binary_cross_entropy, sigmoid

net = Network("unicode names")
x_1, xé = net.inputs("x_1 xé")
y = net.targets("y")
w_1, w1, α2, ñ = net.params("w_1 w1 α2 ñ")
z = net.let("z_ñ", w_1 * x_1 + w1 * x_1 + α2 * xé + ñ)
yhat = net.let("yhat", sigmoid(z))
net.loss(binary_cross_entropy(yhat, y))
network = net
"""


def test_underscore_and_unicode_names_in_a_pdf(tmp_path):
    spec = tmp_path / "spec.py"
    spec.write_text(UNICODE_SPEC, encoding="utf-8")
    assert main(["handout", str(spec), "-o", str(tmp_path / "u.tex"), "--pdf"]) == 0
    assert (tmp_path / "u.pdf").stat().st_size > 1000
    tex = (tmp_path / "u.tex").read_text(encoding="utf-8")
    assert r"\acute{e}" in tex and r"\alpha" in tex and r"\tilde{n}" in tex


PRODUCT_SPEC = """from derive import Network, binary_cross_entropy, sigmoid

net = Network("product")
x1, x2 = net.inputs("x1 x2")
y = net.targets("y")
w1, w2 = net.params("w1 w2")
a1 = net.let("a1", sigmoid(w1 * x1))
a2 = net.let("a2", sigmoid(w2 * x2))
q = net.let("q", a1 * a2)
net.loss(binary_cross_entropy(q, y))
network = net
"""


def test_bce_of_a_product_is_finite_at_saturation(tmp_path):
    spec = tmp_path / "spec.py"
    spec.write_text(PRODUCT_SPEC, encoding="utf-8")
    assert main(["generate", str(spec), "-o", str(tmp_path / "prod.py")]) == 0
    code = """
import warnings, numpy as np, prod
warnings.simplefilter("error")
X = np.array([[1.0, 2.0, -1.0], [1.0, 3.0, -2.0]]); Y = np.array([[1.0, 0.0, 1.0]])
for scale in (1.0, 40.0, 1000.0):
    p = {"w1": np.array(scale), "w2": np.array(scale)}
    assert np.isfinite(prod.loss(p, X, Y)), scale
    assert all(np.isfinite(g) for g in prod.gradients(p, X, Y).values()), scale
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_prod.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert tests.returncode == 0, tests.stdout[-2000:]
    warnings.simplefilter("default")
    assert np.isfinite(1.0)


def test_files_get_the_umask_permissions_and_keep_their_own_mode(tmp_path):
    """A new file gets what the umask leaves of 0o666 (as any tool's); a replaced file keeps its mode
    (a 0755 module stays executable), never 0600."""
    old = os.umask(0o022)
    try:
        module, tests = tmp_path / "x.py", tmp_path / "test_x.py"
        assert main(["generate", "xor", "-o", str(module)]) == 0
        assert oct(module.stat().st_mode & 0o777) == oct(0o644) and oct(tests.stat().st_mode & 0o777) == oct(0o644)
        module.chmod(0o755)
        assert main(["generate", "xor", "-o", str(module)]) == 0
        assert oct(module.stat().st_mode & 0o777) == oct(0o755)
        os.umask(0o027)
        files.write_atomic(str(tmp_path / "h.html"), "<p>x</p>\n")
        assert oct((tmp_path / "h.html").stat().st_mode & 0o777) == oct(0o640)
    finally:
        os.umask(old)


def test_angle_brackets_bars_and_quotes_in_a_title_print_as_themselves(tmp_path):
    """The default font encoding (OT1) sets < > | " as ¡ ¿ — ”: a title and doc escape them."""
    if shutil.which("pdflatex") is None or shutil.which("pdftotext") is None:
        pytest.skip("pdflatex and pdftotext are installed by scripts/setup.sh")
    spec = tmp_path / "spec.py"
    spec.write_text(
        UNICODE_SPEC.replace('Network("unicode names")', 'Network(\'a<b> "c"\', doc="x | y > 0")'), encoding="utf-8"
    )
    assert main(["handout", str(spec), "-o", str(tmp_path / "q.tex"), "--pdf"]) == 0
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "q.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert 'a<b> "c"' in text and "x|y>0" in text.replace(" ", "")  # pdftotext drops the spaces around | and >
    assert not any(c in text for c in "¡¿”")
