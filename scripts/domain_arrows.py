"""Print which domain imports which (app/<domain>/ packages), and imports hidden inside functions.

    python scripts/domain_arrows.py          # arrows, loops and function-level imports
The domains form a chain: accounts <- courses <- bookings <- attendance <- evaluation <- reports <- privacy.
"""
from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"
DOMAINS = ("accounts", "courses", "bookings", "attendance", "evaluation", "reports", "privacy")


def domain_of(module: str) -> str | None:
    parts = module.split(".")
    if len(parts) >= 2 and parts[0] == "app" and parts[1] in DOMAINS:
        return parts[1]
    return None


def module_name(path: Path) -> str:
    rel = path.relative_to(APP.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path):
    """Yield (imported module, line, inside a function, has a comment saying why)."""
    source = path.read_text()
    lines = source.splitlines()
    tree = ast.parse(source)
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]

    def visit(node, in_function):
        for child in ast.iter_child_nodes(node):
            inner = in_function or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, (ast.Import, ast.ImportFrom)):
                names = []
                if isinstance(child, ast.Import):
                    names = [a.name for a in child.names]
                else:
                    base = child.module or ""
                    if child.level:
                        anchor = package.split(".")
                        anchor = anchor[: len(anchor) - (child.level - 1)]
                        base = ".".join(anchor + ([base] if base else []))
                    names = [base] + [f"{base}.{a.name}" for a in child.names]
                line = lines[child.lineno - 1]
                above = lines[child.lineno - 2] if child.lineno > 1 else ""
                explained = "#" in line or above.strip().startswith("#")
                for name in names:
                    yield name, child.lineno, in_function, explained
            else:
                yield from visit(child, inner)

    yield from visit(tree, False)


def main() -> int:
    arrows: dict[tuple[str, str], set[str]] = defaultdict(set)
    hidden = []
    for path in sorted(APP.rglob("*.py")):
        here = domain_of(module_name(path)) if path.parent != APP else None
        seen_hidden = set()
        for name, line, in_function, explained in imports(path):
            there = domain_of(name)
            if here and there and there != here:
                arrows[(here, there)].add(f"{path.relative_to(APP.parent)}:{line}")
            if in_function and name.startswith("app") and not explained and line not in seen_hidden:
                seen_hidden.add(line)
                hidden.append(f"{path.relative_to(APP.parent)}:{line}")
    order = {d: i for i, d in enumerate(DOMAINS)}
    print(f"{len(arrows)} arrows between domains")
    backwards = []
    for (a, b), where in sorted(arrows.items(), key=lambda kv: (order[kv[0][0]], order[kv[0][1]])):
        mark = "" if order[b] < order[a] else "  <- against the chain"
        if mark:
            backwards.append((a, b))
        print(f"  {a} -> {b} ({len(where)} imports){mark}")
        if mark:
            for w in sorted(where):
                print(f"      {w}")
    print(f"{len(backwards)} arrows against the chain (loops)")
    print(f"{len(hidden)} imports inside functions without a comment saying why")
    for h in hidden:
        print(f"  {h}")
    return 1 if backwards or hidden else 0


if __name__ == "__main__":
    sys.exit(main())
