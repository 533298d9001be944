"""The image models' training modules: the layer-module emitter plus a data section.

An image model is a ``VecNetwork`` over the op table (``net.image``, ``conv2d``, ``max_pool``) with an
``image_task`` (``derive.vision.task.with_images``); its module is the one every layer network gets
(``codegen.emit.numpy_layers``), with ``templates/image_data.py.jinja`` in place of the teacher-labelled
demo: the function that draws the task's images (its source copied from ``derive.vision``, so the module
needs only NumPy), ``load_data``, ``demo_data``, cs231n's layout (``as_images``, ``as_columns``) and a
``main`` that trains with the task's defaults and reports the held-out accuracy.
"""

from __future__ import annotations

import inspect

from .backends import NUMPY, Backend
from .numpy_layers import layers_context
from .numpy_module import _environment

DEMO_M = 256  # demo_data's images


def context_of(net, source: str, backend: Backend = NUMPY) -> dict:
    """The module context of a declaration with an image task, for ``backend``'s module (NumPy's or JAX's: the data
    section is NumPy either way); ``source`` names it as ``chainrule generate`` was told."""
    task = net.image_task
    ctx = layers_context(net, source, backend)
    (X,) = net.names("input")
    channels, height, width = (net.size(d) for d in net.images[X])
    generator = getattr(task.source, task.data)
    text = (
        _environment()
        .get_template("image_data.py.jinja")
        .render(
            name=net.name if source.endswith(".py") else source,
            channels=channels,
            height=height,
            width=width,
            classes=repr(task.classes),
            hyper=repr(dict(sorted(task.training.items()))),
            train=task.train,
            heldout=task.heldout,
            generator=inspect.getsource(generator).strip(),
            generator_name=generator.__name__,
            demo_m=DEMO_M,
            n_targets=ctx["n_targets"],
        )
    )
    stdlib = ["import argparse"]
    ctx.update(
        text=text.strip(),
        imports=[*stdlib, "", *[i for i in ctx["imports"] if i not in stdlib]],
        text_doc=(
            f"Images are columns: each column of X is one {channels}×{height}×{width} image, row c·H·W + h·W + w its"
            f"\npixel (h, w) of channel c (as_images(X) is cs231n's m×C×H×W x, as_columns(x) back). The filter"
            f"\nbank W1 is F×(C·HH·WW), row f the filter f flattened (cs231n's w.reshape(F, -1)).\n\n"
            f"    python3 {ctx['name']}.py [--epochs N] [--lr LR] [--seed S]\n\n"
            f"trains on {task.train} images {generator.__name__}(…) draws from the seed (no data to download) with"
            f" the\ndefaults HYPER and reports the held-out accuracy on {task.heldout} more; `load_data(seed)` gives"
            f" ((X, Y)\ntraining, (X, Y) held out), `demo_data(seed)` {DEMO_M} images."
        ),
    )
    return ctx
