"""verify for convolution and pooling: the courses' printed forms hold (cs231n's naive loops and im2col form,
the index form in text and LaTeX), and each classic slip is named with a counterexample."""

from pathlib import Path

import pytest

from codegen.cli.app import main
from derive.verify.claims import ClaimError
from derive.verify.conv import verify_claim, verify_code

SHEETS = Path(__file__).resolve().parent.parent / "codegen" / "sheets" / "conv"
NAIVE = (SHEETS / "cs231n_naive.py").read_text(encoding="utf-8")
IM2COL = (SHEETS / "cs231n_im2col.py").read_text(encoding="utf-8")
NG = (SHEETS / "deeplearning_ai.py").read_text(encoding="utf-8")

FLIP = "the kernel flipped"
STRIDE = "the stride ignored in dx"
CROP = "the padding not cropped"
BATCH = "without the sum over the batch"
EVERY = "the pooling gradient sent to every position"


@pytest.mark.parametrize("source", [NAIVE, IM2COL], ids=["naive loops", "im2col"])
def test_the_courses_code_holds(source):
    verdicts = verify_code(source, "layers.py")
    assert verdicts and all(v.equal for v in verdicts), [v.report() for v in verdicts if not v.equal]


def test_deeplearning_ai_loops_hold_but_for_the_empty_crop_at_pad_0():
    """Ng's per-example loops, channels last, run in their own layout: the forward passes and the pooling hold;
    conv_backward's dA_prev[i] = da_prev_pad[pad:-pad, pad:-pad, :] is named at pad = 0, where it is empty."""
    verdicts = {v.wrt: v for v in verify_code(NG, "deeplearning_ai.py")}
    assert all(verdicts[q].equal for q in ("out of conv_forward", "out of pool_forward", "dx of pool_backward"))
    dx = verdicts["dx of conv_backward"]
    assert not dx.equal and "pad = 0" in dx.hint and dx.counterexample.point["pad"] == 0
    fixed = NG.replace(
        "da_prev_pad[pad:-pad, pad:-pad, :]", "da_prev_pad[pad : pad + n_H_prev, pad : pad + n_W_prev, :]"
    )
    assert all(v.equal for v in verify_code(fixed, "deeplearning_ai.py"))
    slipped = fixed.replace("mask * dA[i, h, w, c]", "dA[i, h, w, c]")
    (pool,) = [v for v in verify_code(slipped, "deeplearning_ai.py") if v.wrt == "dx of pool_backward"]
    assert EVERY in pool.hint


HOLDS = [
    ("db[f] = Σ_{n,i,j} dout[n,f,i,j]", False),
    ("dw[f,c,k,l] = Σ_{n,i,j} dout[n,f,i,j] · x̃[n,c,s·i+k,s·j+l]", False),
    (r"\mathrm{d}w_{f,c,k,l} = \sum_{n,i,j} \mathrm{d}out_{n,f,i,j}\, \tilde{x}_{n,c,si+k,sj+l}", True),
    ("dx̃[n,c,s·i+k,s·j+l] += dout[n,f,i,j] · w[f,c,k,l]", False),
    ("dx[n,c,s*i+k-p,s*j+l-p] += dout[n,f,i,j] * w[f,c,k,l]", False),  # written straight into dx: cropped
    ("out[n,f,i,j] = Σ_{c,k,l} w[f,c,k,l] · x̃[n,c,s·i+k,s·j+l] + b[f]", False),
    ("dW_row = dout_row @ X_col.T", False),
    ("dX_col = W_row.T @ dout_row", False),
    ("dx = col2im(W_row.T @ dout_row)", False),
    ("dw = (dout_row @ x_cols.T).reshape(w.shape)", False),
]


@pytest.mark.parametrize("claim, latex", HOLDS)
def test_the_index_and_im2col_forms_hold(claim, latex):
    v = verify_claim(claim, latex=latex)
    assert v.equal, v.report()


def test_max_pooling_index_form_holds():
    v = verify_claim("dx[n,c,s*i+k,s*j+l] += dout[n,c,i,j] * (x[n,c,s*i+k,s*j+l] == out[n,c,i,j])", kind="pool")
    assert v.equal, v.report()


def _slipped(source, old, new):
    assert old in source
    return source.replace(old, new)


CODE_SLIPS = {
    FLIP: (
        NAIVE,
        "np.sum(window * w[f]) + b[f]",
        "np.sum(window * w[f, :, ::-1, ::-1]) + b[f]",
        "out of conv_forward_naive",
    ),
    STRIDE: (
        NAIVE,
        "dx_pad[n, :, i * stride : i * stride + HH, j * stride : j * stride + WW] += w[f]",
        "dx_pad[n, :, i : i + HH, j : j + WW] += w[f]",
        "dx of conv_backward_naive",
    ),
    CROP: (NAIVE, "dx = dx_pad[:, :, pad : pad + H, pad : pad + W]", "dx = dx_pad", "dx of conv_backward_naive"),
    BATCH: (
        NAIVE,
        "    for n in range(N):\n        for f in range(F):\n            db[f]",
        "    for n in range(N):\n        dw = np.zeros_like(w)\n        for f in range(F):\n            db[f]",
        "dw of conv_backward_naive",
    ),
    EVERY: (
        NAIVE,
        (
            "k, l = np.unravel_index(np.argmax(window), window.shape)\n"
            "                    dx[n, c, i * stride + k, j * stride + l] += dout[n, c, i, j]"
        ),
        "dx[n, c, i * stride : i * stride + ph, j * stride : j * stride + pw] += dout[n, c, i, j]",
        "dx of max_pool_backward_naive",
    ),
}


@pytest.mark.parametrize("slip", sorted(CODE_SLIPS))
def test_each_slip_in_code_is_named_with_a_counterexample(slip):
    source, old, new, quantity = CODE_SLIPS[slip]
    verdicts = {v.wrt: v for v in verify_code(_slipped(source, old, new), "layers.py")}
    wrong = [v for v in verdicts.values() if not v.equal]
    assert quantity in [v.wrt for v in wrong], [v.wrt for v in wrong]
    v = verdicts[quantity]
    assert slip in v.hint, v.report()
    assert v.counterexample is not None and "x = " in str(v.counterexample), v.report()


CLAIM_SLIPS = [
    (FLIP, "out[n,f,i,j] = Σ_{c,k,l} w[f,c,HH-1-k,WW-1-l] · x̃[n,c,s·i+k,s·j+l] + b[f]", "conv"),
    (FLIP, "dw[f,c,k,l] = Σ_{n,i,j} dout[n,f,i,j] · x̃[n,c,s·i+HH-1-k,s·j+WW-1-l]", "conv"),
    (STRIDE, "dx̃[n,c,i+k,j+l] += dout[n,f,i,j] · w[f,c,k,l]", "conv"),
    (CROP, "dx[n,c,s·i+k,s·j+l] += dout[n,f,i,j] · w[f,c,k,l]", "conv"),  # x̃'s indices, never cropped
    (CROP, "dx = dxp", "conv"),
    (BATCH, "dw[f,c,k,l] = Σ_{i,j} dout[n,f,i,j] · x̃[n,c,s·i+k,s·j+l]", "conv"),
    (BATCH, "db[f] = Σ_{i,j} dout[n,f,i,j]", "conv"),
    (EVERY, "dx[n,c,s·i+k,s·j+l] += dout[n,c,i,j]", "pool"),
]


@pytest.mark.parametrize("slip, claim, kind", CLAIM_SLIPS)
def test_each_slip_in_a_claim_is_named_with_a_counterexample(slip, claim, kind):
    v = verify_claim(claim, kind=kind)
    assert not v.equal and v.hint and slip in v.hint, v.report()
    assert v.counterexample is not None


def test_the_stride_slip_shows_only_at_stride_2():
    """At stride 1 the slip is the truth: the counterexample is a strided layer."""
    v = verify_claim("dx̃[n,c,i+k,j+l] += dout[n,f,i,j] · w[f,c,k,l]")
    assert v.counterexample.point["stride"] == 2


def test_a_wrong_claim_with_no_known_slip_has_a_counterexample_and_no_hint():
    v = verify_claim("dw[f,c,k,l] = Σ_{n,i,j} dout[n,f,i,j] · x̃[n,c,i+k,j+l] · 2")
    assert not v.equal and v.hint is None and v.counterexample is not None


@pytest.mark.parametrize(
    "claim, message",
    [
        ("dz[f] = Σ_{n,i,j} dout[n,f,i,j]", "'dz' is not a quantity of the layer"),
        ("db[f] Σ_{n,i,j} dout[n,f,i,j]", "a claim is 'name = formula'"),
        ("db[f] = Σ_{n,i,j} dout[n,f,i,j] +", "cannot read the claim"),
    ],
)
def test_an_unreadable_claim_is_one_line(claim, message):
    with pytest.raises(ClaimError) as err:
        verify_claim(claim)
    assert message in err.value.message and "\n" not in err.value.message


@pytest.mark.parametrize(
    "source, message",
    [
        ("def helper(x):\n    return x\n", "no function of the layer API"),
        ("def conv_backward_naive(dout, cache):\n    return (\n", "cannot read the code"),
    ],
)
def test_bad_code_is_refused_in_one_line(source, message):
    with pytest.raises(ClaimError) as err:
        verify_code(source, "layers.py")
    assert message in err.value.message and "\n" not in err.value.message


def test_a_whole_layers_py_is_read_and_other_modules_are_never_loaded():
    """cs231n's layers.py as a student hands it in: its imports bind nothing (from builtins import range is the
    interpreter's own range), its other functions are not run, a __main__ block and top-level calls are skipped;
    a checked function that uses an imported module fails there, in one line."""
    layers_py = (
        "from builtins import range\nimport pdb\nimport os\nfrom cs231n.fast_layers import *\nimport numpy as np\n\n"
        "np.random.seed(0)\n\n\ndef affine_forward(x, w, b):\n    return x.reshape(x.shape[0], -1) @ w + b, (x, w, b)\n\n\n"
        "def conv_relu_pool_forward(x, w, b, conv_param, pool_param):\n    return None, None\n\n\n"
        + NAIVE.split("import numpy as np", 1)[1]
        + '\n\nif __name__ == "__main__":\n    print(os.getcwd())\n'
    )
    verdicts = verify_code(layers_py, "layers.py")
    assert all(v.equal for v in verdicts) and not [v for v in verdicts if "relu" in v.wrt]  # a sandwich: not checked
    spied = layers_py.replace(
        "    x, w, b, conv_param = cache\n", "    x, w, b, conv_param = cache\n    pdb.set_trace()\n", 1
    )
    (dx, *_) = [v for v in verify_code(spied, "layers.py") if "backward" in v.wrt and "conv" in v.wrt]
    assert not dx.equal and "'pdb' comes from pdb: only numpy may be imported" in dx.counterexample.note
    starred = layers_py.replace(
        "    x, w, b, conv_param = cache\n", "    x, w, b, conv_param = cache\n    im2col(x)\n", 1
    )
    (dx, *_) = [v for v in verify_code(starred, "layers.py") if "backward" in v.wrt and "conv" in v.wrt]
    assert "unknown name 'im2col' (from cs231n.fast_layers import *?" in dx.counterexample.note


def test_a_loop_that_never_ends_is_stopped():
    source = "def conv_backward_naive(dout, cache):\n    for i in range(10**9):\n        pass\n"
    (dx, *_) = verify_code(source, "layers.py")
    assert not dx.equal and "steps" in dx.counterexample.note


def test_cli_code_and_claims(tmp_path, capsys):
    good, bad = tmp_path / "good.py", tmp_path / "bad.py"
    good.write_text(NAIVE)
    bad.write_text(_slipped(*CODE_SLIPS[CROP][:3]))
    assert main(["verify", "conv_net", "--code", str(good)]) == 0
    assert "6 of 6 results hold" in capsys.readouterr().out
    assert main(["verify", "conv_net", "--code", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "likely slip: the padding not cropped" in out and "5 of 6 results hold" in out
    assert main(["verify", "conv_net", "--claim", "db[f] = Σ_{i,j} dout[n,f,i,j]"]) == 1
    assert BATCH in capsys.readouterr().out
    assert main(["verify", "conv_net", "--wrt", "dW2", "--claim", "(1/m) * dZ2 @ P1.T"]) == 0  # the program's names
    capsys.readouterr()
    assert main(["verify", "xor", "--code", str(good)]) == 2
    assert "has no convolution" in capsys.readouterr().err


def test_a_sheet_mixes_the_layers_notation_and_the_programs_names(tmp_path, capsys):
    sheet = tmp_path / "conv.txt"
    sheet.write_text(
        "dw: (dout_row @ x_cols.T).reshape(w.shape)\n"
        "db: db[f] = Σ_{n,i,j} dout[n,f,i,j]\n"
        "dx: dx = dxp\n"
        "dW2: (1/m) * dZ2 @ P1.T\n",
        encoding="utf-8",
    )
    assert main(["verify", "conv_net", "--claims", str(sheet)]) == 1
    out = capsys.readouterr().out
    assert "3 of 4 claims hold" in out and CROP in out


# dx as the transposed convolution: dout dilated by the stride, padded by HH − 1, correlated with the filters
# rotated 180° (a user's vectorised code, not a course's; the interpreter runs it as written)
TRANSPOSED = """import numpy as np


def conv_backward_naive(dout, cache):
    x, w, b, conv_param = cache
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    db = np.sum(dout, axis=(0, 2, 3))
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    dw = np.zeros_like(w)
    for k in range(HH):
        for l in range(WW):
            patch = x_pad[:, :, k : k + stride * H_out : stride, l : l + stride * W_out : stride]
            dw[:, :, k, l] = np.einsum("nfij,ncij->fc", dout, patch)
    dilated = np.zeros((N, F, (H_out - 1) * stride + 1, (W_out - 1) * stride + 1))
    dilated[:, :, ::stride, ::stride] = dout
    full = np.pad(dilated, ((0, 0), (0, 0), (HH - 1, HH - 1), (WW - 1, WW - 1)))
    w_rot = w[:, :, ::-1, ::-1]
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for i in range(dilated.shape[2] + HH - 1):
        for j in range(dilated.shape[3] + WW - 1):
            dx_pad[:, :, i, j] = np.einsum("nfkl,fckl->nc", full[:, :, i : i + HH, j : j + WW], w_rot)
    return dx_pad[:, :, pad : pad + H, pad : pad + W], dw, db
"""
WRONG_WAY = "the kernel flipped the wrong way in dx"


def test_dx_as_the_transposed_convolution_holds_in_code_and_its_slips_are_named():
    assert all(v.equal for v in verify_code(TRANSPOSED, "full.py"))
    for old, new, slip, stride in [
        ("w_rot = w[:, :, ::-1, ::-1]", "w_rot = w", WRONG_WAY, 1),  # the filter not rotated
        ("dilated[:, :, ::stride, ::stride] = dout", "dilated = dout", STRIDE, 2),  # dout not dilated
    ]:
        verdicts = {v.wrt: v for v in verify_code(_slipped(TRANSPOSED, old, new), "full.py")}
        dx = verdicts.pop("dx of conv_backward_naive")
        assert not dx.equal and slip in dx.hint, dx.report()
        assert dx.counterexample.point["stride"] == stride
        assert all(v.equal for v in verdicts.values())


@pytest.mark.parametrize(
    "claim",
    [
        "dx̃[n,c,i,j] = Σ_{f,k,l} dout[n,f,(i-k)/s,(j-l)/s] · w[f,c,k,l]",  # gathered: dout read 0 outside
        "dx[n,c,i,j] = Σ_{f,k,l} dout[n,f,(i+p-k)/s,(j+p-l)/s] · w[f,c,k,l]",  # x's pixel (i, j) is x̃'s (i+p, j+p)
        r"\mathrm{d}\tilde{x}_{n,c,i,j} = \sum_{f,k,l} \mathrm{d}out_{n,f,(i-k)/s,(j-l)/s}\, w_{f,c,k,l}",
        "out[n,f,i,j] = Σ_{c,k,l} w[f,c,k,l] · x[n,c,s·i+k-p,s·j+l-p] + b[f]",  # x read 0 outside: the padding
        "dw[f,c,k,l] = Σ_{n,i,j} dout[n,f,i,j] · x[n,c,s·i+k-p,s·j+l-p]",
    ],
)
def test_the_full_convolution_form_holds(claim):
    v = verify_claim(claim)
    assert v.equal, v.report()


@pytest.mark.parametrize(
    "slip, claim, stride",
    [
        (STRIDE, "dx̃[n,c,i,j] = Σ_{f,k,l} dout[n,f,i-k,j-l] · w[f,c,k,l]", 2),  # right at stride 1 only
        (STRIDE, "dx̃[n,c,i,j] = Σ_{f,k,l} dout[n,f,i+k-HH+1,j+l-WW+1] · w[f,c,HH-1-k,WW-1-l]", 2),  # rot180 form
        (WRONG_WAY, "dx̃[n,c,i,j] = Σ_{f,k,l} dout[n,f,(i+k-HH+1)/s,(j+l-WW+1)/s] · w[f,c,k,l]", 1),
        (f"two slips at once: {WRONG_WAY}", "dx̃[n,c,i,j] = Σ_{f,k,l} dout[n,f,i+k-HH+1,j+l-WW+1] · w[f,c,k,l]", 1),
        ("the padding cropped at the wrong place", "dx[n,c,i,j] = Σ_{f,k,l} dout[n,f,(i-k)/s,(j-l)/s] · w[f,c,k,l]", 1),
    ],
)
def test_the_full_convolution_s_slips_are_named(slip, claim, stride):
    v = verify_claim(claim)
    assert not v.equal and slip in v.hint, v.report()
    assert v.counterexample.point["stride"] == stride


def test_a_layer_name_as_an_index_is_one_line():
    with pytest.raises(ClaimError) as err:
        verify_claim("dx̃[n,c,h,w] = Σ_{f,k,l} dout[n,f,h-k,w-l] · w[f,c,k,l]")
    assert "'h' cannot index" in err.value.message and "\n" not in err.value.message
    with pytest.raises(ClaimError) as err:
        verify_claim("dx[n,c,i,w] = Σ_{f,k,l} dout[n,f,i-k,w-l] · w[f,c,k,l]")
    assert "'w' cannot index" in err.value.message and "the filters" in err.value.message


AVERAGE = "mode='average'"


def test_deeplearning_ai_average_pooling_is_checked_in_its_own_mode():
    verdicts = {v.wrt: v for v in verify_code(NG, "deeplearning_ai.py")}
    assert verdicts[f"out of pool_forward, {AVERAGE}"].equal and verdicts[f"dx of pool_backward, {AVERAGE}"].equal
    for old, new, slip in [
        ("average = dz / (n_H * n_W)", "average = dz", "sent to every position of the window, whole"),
        (
            "da = dA[i, h, w, c]\n",
            "da = dA[i, h, w, c]\n                        a_prev_slice = a_prev[vert_start:vert_end, horiz_start:horiz_end, c]\n",
            None,
        ),
    ]:
        if slip is None:  # a harmless extra line: still holds
            assert all(v.equal for v in verify_code(_slipped(NG, old, new), "x.py") if AVERAGE in v.wrt)
            continue
        (dx,) = [v for v in verify_code(_slipped(NG, old, new), "x.py") if v.wrt == f"dx of pool_backward, {AVERAGE}"]
        assert not dx.equal and slip in dx.hint and dx.counterexample is not None, dx.report()


AVG_NAIVE = """import numpy as np


def avg_pool_backward_naive(dout, cache):
    x, pool_param = cache
    ph, pw, stride = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    N, C, H_out, W_out = dout.shape
    dx = np.zeros_like(x)
    for i in range(H_out):
        for j in range(W_out):
            dx[:, :, i * stride : i * stride + ph, j * stride : j * stride + pw] += dout[:, :, i, j, None, None] / (ph * pw)
    return dx
"""


def test_a_cs231n_style_average_pooling_and_its_slips():
    (dx,) = verify_code(AVG_NAIVE, "avg.py")
    assert dx.equal and "dx / size" not in dx.report()
    (dx,) = verify_code(_slipped(AVG_NAIVE, " / (ph * pw)", ""), "avg.py")
    assert not dx.equal and "whole" in dx.hint
    v = verify_claim("dx[n,c,s*i+k,s*j+l] += dout[n,c,i,j] / (HH*WW)", kind="avgpool")
    assert v.equal, v.report()
    v = verify_claim("dx[n,c,s*i+k,s*j+l] += dout[n,c,i,j]", kind="avgpool")
    assert not v.equal and "whole" in v.hint and v.counterexample is not None


def test_a_program_with_both_poolings_takes_a_claim_for_either(capsys):
    example = Path(__file__).resolve().parent.parent / "docs" / "examples" / "conv_two_layers.py"
    for claim in (
        "dx[n,c,s*i+k,s*j+l] += dout[n,c,i,j] / (HH*WW)",
        "dx[n,c,s*i+k,s*j+l] += dout[n,c,i,j] * (x[n,c,s*i+k,s*j+l] == out[n,c,i,j])",
    ):
        assert main(["verify", str(example), "--claim", claim]) == 0, capsys.readouterr()
    assert main(["verify", str(example), "--claim", "dx[n,c,s*i+k,s*j+l] += dout[n,c,i,j]"]) == 1
    assert "sent to every position" in capsys.readouterr().out


def test_a_class_graded_on_a_conv_layer(tmp_path, capsys):
    """chainrule grade on conv_net: the layer's quantities in the courses' notation and the program's own."""
    questions = tmp_path / "questions.toml"
    questions.write_text(
        'title = "cs231n A2"\n'
        '[[question]]\nid = "dw"\nspec = "conv_net"\nwrt = "dw"\npoints = 2\n'
        '[[question]]\nid = "dx"\nspec = "conv_net"\nwrt = "dx"\npoints = 2\n'
        '[[question]]\nid = "dW2"\nspec = "conv_net"\nwrt = "dW2"\npoints = 1\n',
        encoding="utf-8",
    )
    subs = tmp_path / "subs"
    subs.mkdir()
    (subs / "ana.txt").write_text(
        "dw: dw[f,c,k,l] = Σ_{n,i,j} dout[n,f,i,j] · x̃[n,c,s·i+k,s·j+l]\n"
        "dx: dxp[n,c,i,j] = Σ_{f,k,l} dout[n,f,(i-k)/s,(j-l)/s] · w[f,c,k,l]\n"
        "dx: dx = dxp[:, :, p:p+H, p:p+W]\n"
        "dW2: (1/m) * dZ2 @ P1.T\n",
        encoding="utf-8",
    )
    (subs / "bo.txt").write_text(
        "dw: dw[f,c,k,l] = Σ_{i,j} dout[n,f,i,j] · x̃[n,c,s·i+k,s·j+l]\n"
        "dx: dx̃[n,c,i,j] = Σ_{f,k,l} dout[n,f,(i-k)/s,(j-l)/s] · w[f,c,k,l]\n"
        "dW2: dZ2 @ P1.T\n",
        encoding="utf-8",
    )
    assert main(["grade", str(questions), str(subs), "-o", str(tmp_path / "out"), "--jobs", "1"]) == 0
    capsys.readouterr()
    rows = (tmp_path / "out" / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert "ana,dw,2,2,holds," in rows and "ana,dx,2,2,holds," in rows and "ana,dW2,1,1,holds," in rows
    assert "bo,dw,0,2,wrong,dw and db without the sum over the batch" in rows
    assert "bo,dx,0,2,wrong,an answer for another gradient" in rows  # dx̃, not dx
    assert "bo,dW2,0,1,wrong,a missing factor 1/m" in rows


# 11-785 HW2P1's MyTorch layer classes, as a student completes them: Conv2d_stride1 (dLdA the full convolution
# of dLdZ with the flipped filters), Conv2d = pad, Conv2d_stride1, Downsample2d; MaxPool2d, MeanPool2d alike
MYTORCH = """import numpy as np


class Conv2d_stride1:
    def __init__(self, in_channels, out_channels, kernel_size, weight_init_fn=None, bias_init_fn=None):
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        if weight_init_fn is None:
            self.W = np.random.normal(0, 1.0, (out_channels, in_channels, kernel_size, kernel_size))
        else:
            self.W = weight_init_fn(out_channels, in_channels, kernel_size, kernel_size)
        if bias_init_fn is None:
            self.b = np.zeros(out_channels)
        else:
            self.b = bias_init_fn(out_channels)
        self.dLdW = np.zeros(self.W.shape)
        self.dLdb = np.zeros(self.b.shape)

    def forward(self, A):
        self.A = A
        N, C, H, W = A.shape
        K = self.kernel_size
        H_out, W_out = H - K + 1, W - K + 1
        Z = np.zeros((N, self.out_channels, H_out, W_out))
        for i in range(H_out):
            for j in range(W_out):
                Z[:, :, i, j] = np.tensordot(A[:, :, i : i + K, j : j + K], self.W, axes=([1, 2, 3], [1, 2, 3]))
        return Z + self.b[None, :, None, None]

    def backward(self, dLdZ):
        K = self.kernel_size
        N, F, H_out, W_out = dLdZ.shape
        for k in range(K):
            for l in range(K):
                self.dLdW[:, :, k, l] = np.tensordot(dLdZ, self.A[:, :, k : k + H_out, l : l + W_out], axes=([0, 2, 3], [0, 2, 3]))
        self.dLdb = np.sum(dLdZ, axis=(0, 2, 3))
        padded = np.pad(dLdZ, ((0, 0), (0, 0), (K - 1, K - 1), (K - 1, K - 1)))
        flipped = self.W[:, :, ::-1, ::-1]
        N, C, H, W = self.A.shape
        dLdA = np.zeros(self.A.shape)
        for i in range(H):
            for j in range(W):
                dLdA[:, :, i, j] = np.tensordot(padded[:, :, i : i + K, j : j + K], flipped, axes=([1, 2, 3], [0, 2, 3]))
        return dLdA


class Downsample2d:
    def __init__(self, downsampling_factor):
        self.factor = downsampling_factor

    def forward(self, A):
        self.shape = A.shape
        return A[:, :, :: self.factor, :: self.factor]

    def backward(self, dLdZ):
        dLdA = np.zeros(self.shape)
        dLdA[:, :, :: self.factor, :: self.factor] = dLdZ
        return dLdA


class Conv2d:
    def __init__(self, in_channels, out_channels, kernel_size, stride, padding=0, weight_init_fn=None, bias_init_fn=None):
        self.stride = stride
        self.pad = padding
        self.conv2d_stride1 = Conv2d_stride1(in_channels, out_channels, kernel_size, weight_init_fn, bias_init_fn)
        self.downsample2d = Downsample2d(stride)

    def forward(self, A):
        A = np.pad(A, ((0, 0), (0, 0), (self.pad, self.pad), (self.pad, self.pad)))
        return self.downsample2d.forward(self.conv2d_stride1.forward(A))

    def backward(self, dLdZ):
        dLdA = self.conv2d_stride1.backward(self.downsample2d.backward(dLdZ))
        H, W = dLdA.shape[2], dLdA.shape[3]
        return dLdA[:, :, self.pad : H - self.pad, self.pad : W - self.pad]


class MaxPool2d_stride1:
    def __init__(self, kernel):
        self.kernel = kernel

    def forward(self, A):
        self.A = A
        N, C, H, W = A.shape
        K = self.kernel
        Z = np.zeros((N, C, H - K + 1, W - K + 1))
        for i in range(H - K + 1):
            for j in range(W - K + 1):
                Z[:, :, i, j] = np.max(A[:, :, i : i + K, j : j + K], axis=(2, 3))
        return Z

    def backward(self, dLdZ):
        N, C, H_out, W_out = dLdZ.shape
        K = self.kernel
        dLdA = np.zeros(self.A.shape)
        for n in range(N):
            for c in range(C):
                for i in range(H_out):
                    for j in range(W_out):
                        window = self.A[n, c, i : i + K, j : j + K]
                        k, l = np.unravel_index(np.argmax(window), window.shape)
                        dLdA[n, c, i + k, j + l] += dLdZ[n, c, i, j]
        return dLdA


class MaxPool2d:
    def __init__(self, kernel, stride):
        self.maxpool2d_stride1 = MaxPool2d_stride1(kernel)
        self.downsample2d = Downsample2d(stride)

    def forward(self, A):
        return self.downsample2d.forward(self.maxpool2d_stride1.forward(A))

    def backward(self, dLdZ):
        return self.maxpool2d_stride1.backward(self.downsample2d.backward(dLdZ))


class MeanPool2d_stride1:
    def __init__(self, kernel):
        self.kernel = kernel

    def forward(self, A):
        self.A = A
        N, C, H, W = A.shape
        K = self.kernel
        Z = np.zeros((N, C, H - K + 1, W - K + 1))
        for i in range(H - K + 1):
            for j in range(W - K + 1):
                Z[:, :, i, j] = np.mean(A[:, :, i : i + K, j : j + K], axis=(2, 3))
        return Z

    def backward(self, dLdZ):
        K = self.kernel
        dLdA = np.zeros(self.A.shape)
        for i in range(dLdZ.shape[2]):
            for j in range(dLdZ.shape[3]):
                dLdA[:, :, i : i + K, j : j + K] += dLdZ[:, :, i : i + 1, j : j + 1] / (K * K)
        return dLdA
"""


def test_11_785_layer_classes_hold_and_their_slips_are_named():
    verdicts = verify_code(MYTORCH, "mytorch.py")
    assert {v.wrt for v in verdicts} >= {
        "dx of Conv2d_stride1",
        "dw of Conv2d",
        "db of Conv2d",
        "dx of MaxPool2d",
        "dx of MeanPool2d_stride1",
    }
    assert all(v.equal for v in verdicts), [v.report() for v in verdicts if not v.equal]
    stride1 = {v.wrt: v for v in verdicts}["dx of Conv2d_stride1"]
    assert "4 layers" in stride1.numeric  # checked at stride 1, pad 0: the class takes neither
    for old, new, quantity, slip in [
        ("flipped = self.W[:, :, ::-1, ::-1]", "flipped = self.W", "dx of Conv2d_stride1", WRONG_WAY),
        (
            "return dLdA[:, :, self.pad : H - self.pad, self.pad : W - self.pad]",
            "return dLdA[:, :, self.pad : -self.pad, self.pad : -self.pad]",
            "dx of Conv2d",
            "the crop keeps nothing when pad = 0",
        ),
        (
            (
                "k, l = np.unravel_index(np.argmax(window), window.shape)\n"
                "                        dLdA[n, c, i + k, j + l] += dLdZ[n, c, i, j]"
            ),
            "dLdA[n, c, i : i + K, j : j + K] += dLdZ[n, c, i, j]",
            "dx of MaxPool2d",
            EVERY,
        ),
        (" / (K * K)", "", "dx of MeanPool2d_stride1", "sent to every position of the window, whole"),
    ]:
        (v,) = [v for v in verify_code(_slipped(MYTORCH, old, new), "mytorch.py") if v.wrt == quantity]
        assert not v.equal and slip in v.hint and v.counterexample is not None, v.report()


def test_a_layer_class_that_cannot_be_built_is_one_line():
    source = "class Conv2d:\n    def __init__(self, channels):\n        pass\n\n    def forward(self, A):\n        return A\n\n    def backward(self, d):\n        return d\n"
    with pytest.raises(ClaimError) as err:
        verify_code(source, "c.py")
    assert "needs 'channels'" in err.value.message and "\n" not in err.value.message
    with pytest.raises(ClaimError) as err:
        verify_code("import numpy as np\n\n\nclass Conv2d(object):\n    pass\n", "c.py")
    assert "a plain class" in err.value.message
