"""What an image network learns and how its generated module trains on it.

An image network is an ordinary ``VecNetwork`` over the op table (``net.image``, ``conv2d``, ``max_pool``);
``ImageTask`` adds what the module's data section needs: the data (``bars``: oriented bars drawn from a seed,
``derive.vision.bars``), how many training and held-out images, and the training defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import ChainruleError
from . import bars

DATA = {"bars": bars}  # task -> the module that makes its images (a function of its own name, CLASSES, SIZE)


@dataclass(frozen=True)
class ImageTask:
    data: str = "bars"
    training: dict = field(default_factory=dict)  # epochs, lr, batch, seed, optimizer: the module's defaults
    train: int = 1024  # training images
    heldout: int = 512  # held-out images (another seed)

    def __post_init__(self):
        if self.data not in DATA:
            raise ChainruleError(f"unknown image data '{self.data}' (expected one of: {', '.join(DATA)})")

    @property
    def source(self):
        """The module whose function of the task's name makes the images."""
        return DATA[self.data]

    @property
    def classes(self) -> tuple[str, ...]:
        return self.source.CLASSES


def with_images(net, task: ImageTask):
    """``net`` with its image task attached (``net.image_task``)."""
    net.image_task = task
    return net
