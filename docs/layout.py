#!/usr/bin/env python
"""Print the project's layout from the code: each app's modules and packages with the first
sentence of their docstrings. The README's "Project layout" block is this output
(tests/unit/test_layout.py fails when they differ): `python docs/layout.py` regenerates it.

Reads the files with `ast`, imports nothing, needs no settings."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APPS = ("config", "resellers", "orders", "billing", "dashboard")
SKIP = {"migrations", "management", "templatetags", "__pycache__"}
WIDTH = 100


def summary(path: Path) -> str:
    """The docstring's first sentence, on one line."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    text = " ".join(doc.split())
    for end in (". ", ": "):
        depth = 0
        for i, char in enumerate(text):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and text.startswith(end, i):
                return text[: i + 1].rstrip(":")
    return text


def lines(folder: Path, depth: int) -> list[str]:
    out = []
    entries = sorted(folder.iterdir(), key=lambda p: (p.is_dir(), p.name))
    for path in entries:
        if path.name in SKIP or path.name.startswith((".", "_")):
            continue
        indent = "  " * depth
        if path.is_dir() and (path / "__init__.py").exists():
            name = f"{indent}{path.name}/"
            out.append(_row(name, summary(path / "__init__.py")))
            out.extend(lines(path, depth + 1))
        elif path.suffix == ".py":
            out.append(_row(f"{indent}{path.name}", summary(path)))
    return out


def _row(name: str, text: str) -> str:
    row = f"{name:<28}{text}" if text else name
    return row if len(row) <= WIDTH else row[: WIDTH - 1] + "…"


def layout() -> str:
    out = []
    for app in APPS:
        out.append(_row(f"{app}/", summary(ROOT / app / "__init__.py")))
        out.extend(lines(ROOT / app, 1))
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(layout())
