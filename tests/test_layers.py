"""The direction of imports between lazyir's layers (see STYLE.md): frontends -> ir -> optimizer ->
backend -> dist, with ``engine`` as the one module that wires them."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1] / "lazyir"

# What each layer may import from lazyir (besides itself); "errors" is shared by everyone.
ALLOWED = {
    "ir": {"errors"},
    "optimizer": {"errors", "ir"},
    "backend": {"errors", "ir"},
    "frontends": {"errors", "ir", "engine", "config"},
    "dist": {"errors", "ir", "backend", "engine", "config"},
}


def _imports(path: Path) -> set[str]:
    """Top-level lazyir packages a module imports (absolute or relative)."""
    rel = path.relative_to(ROOT).parts
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            for alias in node.names:
                parts = alias.name.split(".")
                if parts[0] == "lazyir" and len(parts) > 1:
                    out.add(parts[1])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = list(rel[:-1])
                up = node.level - 1
                base = base[: len(base) - up] if up else base
                mod = base + (node.module.split(".") if node.module else [])
                if mod:
                    out.add(mod[0])
                else:
                    out.update(a.name for a in node.names)
            elif node.module and node.module.startswith("lazyir."):
                out.add(node.module.split(".")[1])
    return out


@pytest.mark.parametrize("layer", sorted(ALLOWED))
def test_layer_imports(layer: str) -> None:
    for path in sorted((ROOT / layer).rglob("*.py")):
        bad = _imports(path) - ALLOWED[layer] - {layer}
        assert not bad, f"{path.relative_to(ROOT)} imports {sorted(bad)}, which layer {layer!r} must not use"


def test_checker_sees_a_violation(tmp_path: Path) -> None:
    # The checker itself must be able to fail: a relative import two levels up is seen.
    fake = ROOT / "ir" / "_probe_layers.py"
    fake.write_text("from ..backend import codegen\n")
    try:
        assert "backend" in _imports(fake)
    finally:
        fake.unlink()
