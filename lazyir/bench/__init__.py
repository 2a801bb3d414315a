"""The benchmark suite: ``python -m lazyir.bench`` (see ``__main__``)."""
