"""``import lazyir.numpy as np``: NumPy's namespace, lazily.

Arrays made here (or wrapped with ``asarray``) are lazy ``ndarray``s: ufuncs, reductions, views,
masks and the functions in ``lazyir.frontends.numpy.api`` build one program that runs when a value
is needed (``lazyir.evaluate``, ``np.asarray``, printing, ``float()``...). Creation and random
functions run on NumPy (eager generation) and return lazy arrays. Any other NumPy function
applied to lazy arrays evaluates them, runs on NumPy, warns once with ``EagerFallbackWarning`` and
returns a lazy array. Constants, dtypes and everything that is not a function are NumPy's own.
"""

from __future__ import annotations

import functools
import types
from typing import Any

import numpy as _np

from .frontends.numpy import api as _api
from .frontends.numpy.array import apply_ufunc as _apply_ufunc
from .frontends.numpy.array import eager_call as _eager_call
from .frontends.numpy.array import ndarray
from .frontends.numpy.array import where as _where
from .frontends.numpy.array import wrap as _wrap

asarray = _api.asarray
array = _api.array
asanyarray = _api.asarray
sum = _api.sum  # noqa: A001
prod = _api.prod
min = _api.amin  # noqa: A001
max = _api.amax  # noqa: A001
amin = _api.amin
amax = _api.amax
any = _api.any  # noqa: A001
all = _api.all  # noqa: A001
mean = _api.np_mean
var = _api.np_var
std = _api.np_std
argmin = _api.argmin
argmax = _api.argmax
count_nonzero = _api.IMPLEMENTED[_np.count_nonzero]
clip = _api.clip
reshape = _api.reshape
ravel = _api.ravel
transpose = _api.transpose
concatenate = _api.concatenate
dot = _api.dot
matmul = _api.matmul
roll = _api.roll
zeros_like = _api.zeros_like
ones_like = _api.ones_like
empty_like = _api.empty_like
full_like = _api.full_like
take = _api.take
stack = _api.stack
bincount = _api.bincount
sort = _api.sort
argsort = _api.argsort
unique = _api.unique
pad = _api.pad
cumsum = _api.cumsum
cumprod = _api.cumprod


def diff(a: Any, n: int = 1, axis: int = -1, **kw: Any) -> Any:
    return _api.diff(a, n, axis, **kw)


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    if x is None and y is None:
        return _eager_call("where", _np.where, (condition,), {}, "one argument")
    return _where(condition, x, y)


def _has_lazy(args: Any) -> bool:
    stack = [args]
    while stack:
        v = stack.pop()
        if isinstance(v, ndarray):
            return True
        if isinstance(v, (list, tuple)):
            stack.extend(v)
        elif isinstance(v, dict):
            stack.extend(v.values())
    return False


class _Ufunc:
    """A NumPy ufunc that captures its calls lazily."""

    def __init__(self, ufunc: _np.ufunc):
        self._ufunc = ufunc
        functools.update_wrapper(self, ufunc, updated=())

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs.get("out") is not None:
            return _eager_call(self._ufunc.__name__, self._ufunc, args, kwargs, "out=")
        return _apply_ufunc(self._ufunc, args, kwargs)

    def reduce(self, a: Any, axis: Any = 0, **kwargs: Any) -> Any:
        return ndarray.__array_ufunc__(asarray(a), self._ufunc, "reduce", a, axis=axis, **kwargs)

    def accumulate(self, a: Any, axis: Any = 0, **kwargs: Any) -> Any:
        return ndarray.__array_ufunc__(asarray(a), self._ufunc, "accumulate", a, axis=axis, **kwargs)

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._ufunc, name)
        if callable(attr):
            return _function(attr, f"{self._ufunc.__name__}.{name}")
        return attr

    def __repr__(self) -> str:
        return f"<lazyir ufunc {self._ufunc.__name__!r}>"


def _function(func: Any, name: str) -> Any:
    """A NumPy function: lazy inputs fall back (evaluate, run, warn); array results are wrapped."""

    @functools.wraps(func)
    def call(*args: Any, **kwargs: Any) -> Any:
        if _has_lazy((args, kwargs)):
            impl = _api.IMPLEMENTED.get(func)
            if impl is not None:
                return impl(*args, **kwargs)
            return _eager_call(name, func, args, kwargs)
        return _wrap(func(*args, **kwargs))

    return call


class _Submodule(types.ModuleType):
    """``np.random``, ``np.linalg``...: NumPy's functions with wrapped results."""

    def __init__(self, module: types.ModuleType):
        super().__init__(f"lazyir.numpy.{module.__name__.split('.', 1)[1]}")
        self._module = module

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._module, name)
        if isinstance(attr, types.ModuleType):
            return _Submodule(attr)
        if callable(attr) and not isinstance(attr, type):
            return _function(attr, f"{self._module.__name__}.{name}")
        return attr


random = _Submodule(_np.random)
linalg = _Submodule(_np.linalg)
fft = _Submodule(_np.fft)


@functools.cache
def __getattr__(name: str) -> Any:
    attr = getattr(_np, name)
    if isinstance(attr, _np.ufunc):
        return _Ufunc(attr)
    if isinstance(attr, types.ModuleType):
        return _Submodule(attr)
    if callable(attr) and not isinstance(attr, type):
        return _function(attr, name)
    return attr
