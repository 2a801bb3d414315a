"""Frontends (NumPy, pandas) that build IR; they never import the optimizer, backend or dist."""
