"""The package's import graph, from its source (every import, lazy ones inside functions
included), and its cycles.

    python scripts/import_graph.py          # prints the cycles; exit 1 if there is one
    python scripts/import_graph.py --edges  # prints every edge as "a -> b"

A module is a file; importing a package means its ``__init__.py``. An edge a -> b means a
names b in an import statement anywhere in its text (``from .x import y`` where y is a
submodule is an edge to that submodule, not to the package). The parents' ``__init__``
that Python runs first for any import are not edges: every module would otherwise sit in
one cycle with the package's ``__init__``."""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "src" / "ganforge"


def module_name(path: Path, root: Path = ROOT) -> str:
    rel = path.relative_to(root.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules(root: Path = ROOT) -> dict[str, Path]:
    return {module_name(p, root): p for p in sorted(root.rglob("*.py"))}


def _resolve(mod: str, is_pkg: bool, level: int, name: str | None) -> str:
    base = mod.split(".") if is_pkg else mod.split(".")[:-1]
    if level > 1:
        base = base[: len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def edges(root: Path = ROOT) -> dict[str, set[str]]:
    """Module -> the package modules it imports."""
    mods = modules(root)
    top = root.name
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod, path in mods.items():
        is_pkg = path.name == "__init__.py"
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                src = _resolve(mod, is_pkg, node.level, node.module) if node.level else (node.module or "")
                # a name that is a submodule is an edge to it; any other name, to ``src``
                targets = [f"{src}.{a.name}" if f"{src}.{a.name}" in mods else src for a in node.names]
            for t in targets:
                if not (t == top or t.startswith(top + ".")):
                    continue
                # the deepest package module the name reaches (a name imported from a module is no module)
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != mod:
                    graph[mod].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edges", action="store_true", help="print every edge")
    a = ap.parse_args()
    g = edges()
    if a.edges:
        for m in sorted(g):
            for t in sorted(g[m]):
                print(f"{m} -> {t}")
    found = cycles(g)
    for c in found:
        print(f"cycle of {len(c)} modules: {', '.join(c)}")
    if not found:
        print(f"{len(g)} modules, {sum(map(len, g.values()))} imports, no cycle")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
