"""No module of ``rest_bulk_ext`` imports itself back through others.

A cycle closed by a function-local import passes every linter and every
import at start-up, and breaks at run time, unseen, when one of its modules
is renamed (docs/contributing.md, "Layers"). The graph below is built from
the source with ``ast``: every ``import`` and ``from ... import`` of the
package, at module level or inside a function, an ``if TYPE_CHECKING``
block aside (it never runs).
"""

import ast
import pathlib

import rest_bulk_ext

PACKAGE = pathlib.Path(rest_bulk_ext.__file__).parent

# Cycles known and being removed elsewhere, each a sorted tuple of modules.
# Empty: a cycle is broken, not listed (jobs send tasks by their registered
# name, so jobs/ never imports tasks.py).
ALLOWED_CYCLES: set[tuple[str, ...]] = set()


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_type_checking(node):
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imported_modules(path, modules):
    """The package's modules ``path`` imports, wherever the import stands."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    skipped = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and is_type_checking(node):
            skipped.update(id(child) for stmt in node.body for child in ast.walk(stmt))
    found = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            candidates = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                source = ".".join([*base, node.module] if node.module else base)
            else:
                source = node.module or ""
            # ``from . import x`` imports the module ``x`` when there is one.
            candidates = [f"{source}.{alias.name}" for alias in node.names] + [source]
        else:
            continue
        for candidate in candidates:
            # ``import a.b.c`` runs a, a.b and a.b.c: the deepest existing
            # module is the edge (the packages' own __init__ imports are theirs).
            while candidate and candidate not in modules:
                candidate = candidate.rpartition(".")[0]
            if candidate and candidate != name:
                found.add(candidate)
                break
    return found


def import_graph():
    paths = {module_name(path): path for path in PACKAGE.rglob("*.py") if "migrations" not in path.parts}
    modules = set(paths)
    return {name: imported_modules(path, modules) for name, path in paths.items()}


def strongly_connected(graph):
    """Tarjan's algorithm: the groups of modules that reach each other."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(tuple(sorted(group)))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_graph_sees_function_local_imports():
    # What the test relies on: an import inside a function is an edge.
    graph = import_graph()
    assert "rest_bulk_ext.jobs.retention" in graph["rest_bulk_ext.tasks"]


def test_no_module_imports_itself_back():
    cycles = set(strongly_connected(import_graph()))
    unexpected = cycles - ALLOWED_CYCLES
    assert not unexpected, "import cycles (break them: a layer imports only the layers below it): " + "; ".join(
        " <-> ".join(cycle) for cycle in sorted(unexpected)
    )


def test_every_allowed_cycle_still_exists():
    # An allow-list entry whose cycle is gone would hide a new one later.
    assert ALLOWED_CYCLES <= set(strongly_connected(import_graph()))
