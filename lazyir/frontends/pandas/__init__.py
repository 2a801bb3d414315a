"""The pandas frontend: lazy ``Series`` and ``DataFrame`` over the lazy NumPy frontend."""
