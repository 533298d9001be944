# ruff: noqa: RUF059  (the course's code as students write it: every shape unpacked)
"""cs231n assignment 2, the im2col form of the conv layer: out = W_row X_col + b, dW_row = dout X_colᵀ,
dX_col = W_rowᵀ dout, dx = col2im(dX_col), with im2col and col2im written as loops over the filter's offsets."""

import numpy as np


def im2col(x_pad, HH, WW, stride, H_out, W_out):
    N, C = x_pad.shape[0], x_pad.shape[1]
    cols = np.zeros((C, HH, WW, H_out, W_out, N))
    for k in range(HH):
        for l in range(WW):
            window = x_pad[:, :, k : k + stride * H_out : stride, l : l + stride * W_out : stride]
            cols[:, k, l] = window.transpose(1, 2, 3, 0)
    return cols.reshape(C * HH * WW, -1)


def col2im(dx_cols, x_shape, HH, WW, stride, pad, H_out, W_out):
    N, C, H, W = x_shape
    cols = dx_cols.reshape(C, HH, WW, H_out, W_out, N)
    dx_pad = np.zeros((N, C, H + 2 * pad, W + 2 * pad))
    for k in range(HH):
        for l in range(WW):
            dx_pad[:, :, k : k + stride * H_out : stride, l : l + stride * W_out : stride] += cols[:, k, l].transpose(
                3, 0, 1, 2
            )
    return dx_pad[:, :, pad : pad + H, pad : pad + W]


def conv_forward_im2col(x, w, b, conv_param):
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    H_out, W_out = (H + 2 * pad - HH) // stride + 1, (W + 2 * pad - WW) // stride + 1
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    x_cols = im2col(x_pad, HH, WW, stride, H_out, W_out)
    res = w.reshape(F, -1) @ x_cols + b.reshape(-1, 1)
    out = res.reshape(F, H_out, W_out, N).transpose(3, 0, 1, 2)
    return out, (x, w, b, conv_param, x_cols)


def conv_backward_im2col(dout, cache):
    x, w, b, conv_param = cache[:4]
    stride, pad = conv_param["stride"], conv_param["pad"]
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    _, _, H_out, W_out = dout.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    x_cols = im2col(x_pad, HH, WW, stride, H_out, W_out)
    db = np.sum(dout, axis=(0, 2, 3))
    dout_reshaped = dout.transpose(1, 2, 3, 0).reshape(F, -1)
    dw = (dout_reshaped @ x_cols.T).reshape(w.shape)
    dx_cols = w.reshape(F, -1).T @ dout_reshaped
    dx = col2im(dx_cols, x.shape, HH, WW, stride, pad, H_out, W_out)
    return dx, dw, db
