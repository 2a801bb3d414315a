"""The NumPy frontend: lazy arrays that capture NumPy calls as IR (see ``lazyir.numpy``)."""

from .array import ndarray

__all__ = ["ndarray"]
