"""The house's rules, read from the source: layers import only downward, and no cycles.

Every import counts, function-level ones too (they hide cycles rather than remove them);
only imports under `if TYPE_CHECKING:` are skipped, since they never run.
"""

from __future__ import annotations

import ast
import graphlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "fairserver"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(path: Path) -> set[str]:
    """Absolute names of every module this file imports when it runs."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                for other in child.orelse:
                    visit(other)
                continue
            if isinstance(child, ast.Import):
                found.update(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")[: len(package.split(".")) - child.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                found.add(base)
                # `from pkg import mod` imports the submodule pkg.mod
                found.update(
                    f"{base}.{alias.name}"
                    for alias in child.names
                    if f"{base}.{alias.name}" in MODULES
                )
            visit(child)

    visit(ast.parse(path.read_text(), filename=str(path)))
    return found


IMPORTS = {name: _imports(path) for name, path in MODULES.items()}


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _offenders(layer: str, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(
        f"{name} imports {target}"
        for name, targets in IMPORTS.items()
        if _under(name, layer)
        for target in targets
        if any(_under(target, f) for f in forbidden)
    )


def test_the_reader_sees_function_level_imports() -> None:
    # Guards the checker itself: these imports exist today and must be seen.
    assert "fairserver.store.live_redis" in IMPORTS["fairserver.rooms.wiring"]
    assert "fairserver.socket.domains" in IMPORTS["fairserver.app"]


def test_fairserver_has_no_import_cycles() -> None:
    graph = {
        name: {t for t in targets if t in MODULES and t != name}
        for name, targets in IMPORTS.items()
    }
    try:
        graphlib.TopologicalSorter(graph).prepare()
    except graphlib.CycleError as exc:
        pytest.fail(f"import cycle: {' -> '.join(exc.args[1])}")


def test_a_cycle_would_be_caught() -> None:
    with pytest.raises(graphlib.CycleError):
        graphlib.TopologicalSorter({"a": {"b"}, "b": {"a"}}).prepare()


def test_the_transports_do_not_import_the_store() -> None:
    # HTTP views and socket handlers authorise through the rooms' access_* functions and
    # call rooms services; only those (and the app's wiring) reach fairserver.store.
    offenders = _offenders("fairserver.http", ("fairserver.store",)) + _offenders(
        "fairserver.socket", ("fairserver.store",)
    )
    assert offenders == []


def test_rooms_import_no_transport_or_media_library() -> None:
    # rooms/ keeps the policy; aiortc and PyAV stay in fairserver.webrtc, the web and
    # socket servers in fairserver.http and fairserver.socket.
    forbidden = ("aiohttp", "socketio", "engineio", "aiortc", "av")
    assert _offenders("fairserver.rooms", forbidden) == []


def test_the_rooms_rule_would_catch_an_offender() -> None:
    # Guards the rule itself: webrtc imports aiortc and av, and is seen doing so.
    found = _offenders("fairserver.webrtc", ("aiortc", "av"))
    assert "fairserver.webrtc.session imports aiortc" in found
    assert "fairserver.webrtc.recorder imports av" in found
