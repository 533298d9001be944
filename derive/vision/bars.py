"""Oriented bars: a small image task made from a seed, for ``conv_net`` (cs231n assignment 2 trains on CIFAR-10;
this is a task small enough to learn in seconds and to ship as code).

Each image is one channel of SIZE×SIZE pixels with one bar of 4 to 7 pixels drawn at a random place in one
of four orientations, the class: horizontal (—), vertical (|), diagonal (\\) or anti-diagonal (/), with
Gaussian noise on every pixel.  A 3×3 filter sees the orientation locally, wherever the bar is: the task a
convolution solves and a dense layer of the same size learns slowly.  ``bars`` is copied as it is into the
generated module (``codegen.emit.image_module``), which needs only NumPy.
"""

import numpy as np

CLASSES = ("horizontal", "vertical", "diagonal", "anti-diagonal")
SIZE = 12  # pixels per side


def bars(m, seed=0, size=12, noise=0.2):
    """m images of one oriented bar each: X (size·size)×m, one image per column (row h·size + w is pixel (h, w)),
    and the class of each, 0 horizontal, 1 vertical, 2 diagonal, 3 anti-diagonal: integers, shape (m,)."""
    rng = np.random.default_rng(seed)
    steps = np.array([[0, 1], [1, 0], [1, 1], [1, -1]])  # (row, column) step along a bar of each class
    labels = rng.integers(0, 4, m)
    lengths = rng.integers(4, 8, m)
    images = noise * rng.standard_normal((size, size, m))
    for n in range(m):
        (dr, dc), length = steps[labels[n]], lengths[n]
        reach = length - 1
        row = rng.integers(0, size - dr * reach)
        col = rng.integers(max(0, -dc * reach), size - max(0, dc * reach))
        for t in range(length):
            images[row + dr * t, col + dc * t, n] += 1.0
    return images.reshape(size * size, m), labels
