"""Fail when a function in ``src/`` has a body over 80 lines (``make lint`` runs it).

The body is what follows the signature: a command's declarative option list is its signature and
does not count. Database migrations (``store/migrations/``) are exempt. Ruff's PLR0915 bounds the
statements of a function; this bounds its lines.

    python scripts/check_function_length.py [--max 80] [PATH ...]
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

EXEMPT = ("store/migrations/",)


def long_functions(paths: list[Path], most: int) -> list[tuple[int, str]]:
    """(body lines, "path:line name") of every function whose body is over ``most`` lines."""
    found = []
    for path in paths:
        if any(e in path.as_posix() for e in EXEMPT):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = (node.end_lineno or node.lineno) - node.body[0].lineno + 1
                if body > most:
                    found.append((body, f"{path}:{node.lineno} {node.name}"))
    return sorted(found, reverse=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="*", type=Path, default=[Path("src")])
    parser.add_argument("--max", type=int, default=80, help="the most lines a function body may have")
    args = parser.parse_args()
    files = [f for p in args.paths for f in ([p] if p.is_file() else sorted(p.rglob("*.py")))]
    found = long_functions(files, args.max)
    for lines, where in found:
        print(f"{where}: {lines} lines (at most {args.max})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
