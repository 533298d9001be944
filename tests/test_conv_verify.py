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
        ("import os\ndef conv_backward_naive(dout, cache):\n    return os.getcwd()\n", "only numpy may be imported"),
        ("def helper(x):\n    return x\n", "no function of the layer API"),
        ("def conv_backward_naive(dout, cache):\n    return (\n", "cannot read the code"),
    ],
)
def test_bad_code_is_refused_in_one_line(source, message):
    with pytest.raises(ClaimError) as err:
        verify_code(source, "layers.py")
    assert message in err.value.message and "\n" not in err.value.message


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
