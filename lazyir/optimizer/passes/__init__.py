"""The optimizer's passes, one per module; importing this package registers them all."""

from . import (  # noqa: F401
    cse,
    dce,
    float_lets,
    fold,
    fuse_horizontal,
    fuse_vertical,
    inline,
    licm,
    predicate,
    size,
)
