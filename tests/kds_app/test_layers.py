"""The layers of `kds_app`, read from its imports: each folder imports only from the folders before it in
`LAYERS` (and from itself), and only `startup/embedded.py` imports `kds_backend`. The two commands that need no
companion never reach `kds_backend` even through other modules: `kds_app/__main__.py` when imported (`kds`
starts a companion only when the settings ask for one), `kds-pos-sim` (`demo/pos_sim.py`) at all, since it is
a plain API client of a server somewhere else.

Imports under `if TYPE_CHECKING:` are type names only, never run, and are left out of the layer rule (the bump
bar names the window it drives); they still count for the `kds_backend` rule.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

import kds_app
import sync

PACKAGE = "kds_app"
ROOT = Path(kds_app.__file__).parent

# Foundations first: a layer may import any layer before it, never one after it.
LAYERS = ("media", "viewmodel", "input", "startup", "printing", "cards", "panels", "windows", "demo", "tools")
TOP = {"__init__", "__main__"}  # the package's entry points: above every layer
BACKEND_DOOR = "startup/embedded.py"
# The modules that must not reach kds_backend through any chain of imports; True: imports made inside functions
# count too (everything the module can run), False: only what importing it runs.
BACKEND_FREE = {"__main__.py": False, "demo/pos_sim.py": True}
PROJECT = ROOT.parent


@dataclass(frozen=True)
class Import:
    module: str  # absolute, e.g. "kds_app.cards.card_layout" or "kds_backend.app"
    line: int
    type_only: bool
    lazy: bool = False  # made inside a function: runs when it is called, not on import


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(path: Path, module: str) -> list[Import]:
    """Every import in `path` (a module named `module`), module-level or inside functions, made absolute."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: list[Import] = []

    def visit(node: ast.AST, type_only: bool, lazy: bool) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            for child in node.body:
                visit(child, True, lazy)
            for child in node.orelse:
                visit(child, type_only, lazy)
            return
        if isinstance(node, ast.Import):
            found.extend(Import(alias.name, node.lineno, type_only, lazy) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                target = f"{base}.{node.module}" if node.module else base
            else:
                target = node.module or ""
            found.append(Import(target, node.lineno, type_only, lazy))
            # `from kds_app.x import y` may name a module y: count it too, so `from .. import cards` is seen.
            found.extend(Import(f"{target}.{alias.name}", node.lineno, type_only, lazy) for alias in node.names)
        inner = lazy or isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
        for child in ast.iter_child_nodes(node):
            visit(child, type_only, inner)

    visit(ast.parse(path.read_text(encoding="utf-8"), str(path)), False, False)
    return found


def module_file(module: str, roots: dict[str, Path]) -> Path | None:
    """The file of `module` when it is one of `roots`' packages (name -> package directory); None otherwise."""
    top, *rest = module.split(".")
    if top not in roots:
        return None
    path = roots[top].joinpath(*rest)
    for candidate in (path / "__init__.py", path.with_suffix(".py") if rest else None):
        if candidate is not None and candidate.is_file():
            return candidate
    return None


def backend_chain(module: str, roots: dict[str, Path], *, lazy: bool) -> list[str] | None:
    """A chain of imports from `module` to `kds_backend` through the packages in `roots`, None if there is none.
    Importing a module runs its parent packages too; type-only imports never run."""
    seen = {module}
    queue: list[list[str]] = [[module]]
    while queue:
        chain = queue.pop(0)
        path = module_file(chain[-1], roots)
        if path is None:
            continue
        parts = chain[-1].split(".")
        nexts = [".".join(parts[:n]) for n in range(1, len(parts))]
        nexts += [i.module for i in imports_of(path, chain[-1]) if not i.type_only and (lazy or not i.lazy)]
        for name in nexts:
            if name.split(".")[0] == "kds_backend":
                return [*chain, name]
            if name not in seen:
                seen.add(name)
                queue.append([*chain, name])
    return None


def _public_sync(module: str) -> bool:
    """`sync` itself, a name it exports (`sync.__all__`), or its trace hooks; never the engine's inside."""
    parts = module.split(".")
    return len(parts) == 1 or (len(parts) == 2 and (parts[1] in sync.__all__ or parts[1] == "trace"))


def layer_of(relative: Path) -> str | None:
    """The layer of a file (relative to the package root); None for the package's own entry points."""
    if len(relative.parts) == 1 and relative.stem in TOP:
        return None
    return relative.parts[0] if len(relative.parts) > 1 else relative.stem


def violations(root: Path, package: str = PACKAGE) -> list[str]:
    """What breaks the layering in the package at `root`, one line each ("file:line: why")."""
    problems: list[str] = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        layer = layer_of(relative)
        if layer is not None and (layer not in LAYERS or len(relative.parts) != 2):
            problems.append(f"{relative}: not in a layer folder ({', '.join(LAYERS)})")
            continue
        dotted = ".".join((package, *relative.with_suffix("").parts))
        if path.name == "__init__.py":
            dotted = dotted.removesuffix(".__init__")
        for imp in imports_of(path, dotted):
            top = imp.module.split(".")[0]
            if top == "kds_backend" and relative.as_posix() != BACKEND_DOOR:
                problems.append(f"{relative}:{imp.line}: imports {imp.module} (only {BACKEND_DOOR} may)")
            if top == "sync" and not _public_sync(imp.module):
                problems.append(f"{relative}:{imp.line}: imports {imp.module} (the engine is `from sync import ...`)")
            if top != package or layer is None or imp.type_only:
                continue
            parts = imp.module.split(".")
            if len(parts) < 2 or parts[1] not in LAYERS:
                continue  # `from .. import x`'s base, or a top-level name (checked as `kds_app.x` below it)
            if LAYERS.index(parts[1]) > LAYERS.index(layer):
                problems.append(f"{relative}:{imp.line}: {layer} imports {imp.module}, from a later layer")
    roots = {package: root, **{p.name: p for p in root.parent.iterdir() if (p / "__init__.py").is_file()}}
    for relative_name, lazy in BACKEND_FREE.items():
        if (root / relative_name).is_file():
            start = ".".join((package, *Path(relative_name).with_suffix("").parts))
            if chain := backend_chain(start, {**roots, package: root}, lazy=lazy):
                problems.append(f"{relative_name}: reaches kds_backend: {' -> '.join(chain)}")
            # Not even lazily: the door is for what starts a companion (the app, the demo), never for a helper.
            door = ".".join((package, *Path(BACKEND_DOOR).with_suffix("").parts))
            lines = sorted({i.line for i in imports_of(root / relative_name, start) if i.module.startswith(door)})
            problems.extend(f"{relative_name}:{line}: imports {door}, the door to kds_backend" for line in lines)
    return problems


def test_kds_app_imports_only_from_the_layers_above() -> None:
    assert violations(ROOT) == []


def test_every_layer_is_a_package() -> None:
    assert sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").exists()) == sorted(LAYERS)


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        # a lower layer importing a higher one, relative and absolute, at module level and inside a function
        ({"cards/grid.py": "from ..windows.app import App\n"}, "cards imports kds_app.windows.app"),
        ({"media/theme.py": "def f():\n    import kds_app.panels.ready_board\n"}, "media imports kds_app.panels"),
        ({"viewmodel/screen.py": "from .. import cards\n"}, "viewmodel imports kds_app.cards"),
        # kds_backend from anywhere but the one door, even type-only or lazily
        ({"demo/pos_sim.py": "def f():\n    from kds_backend.settings import Settings\n"}, "only startup/embedded"),
        (
            {"__main__.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import kds_backend\n"},
            "only startup/embedded",
        ),
        # the engine's inside instead of its public API
        ({"viewmodel/screen.py": "from sync.store.outbox_rows import OutboxEntry\n"}, "the engine is `from sync"),
        # the commands that need no companion reaching kds_backend through the door, or through a parent package
        (
            {
                "demo/pos_sim.py": "def f():\n    from ..startup.config import x\n",
                "startup/config.py": "from .embedded import y\n",
                "startup/embedded.py": "import kds_backend\n",
            },
            "demo/pos_sim.py: reaches kds_backend: kds_app.demo.pos_sim -> kds_app.startup.config -> "
            "kds_app.startup.embedded -> kds_backend",
        ),
        (
            {
                "__main__.py": "from .startup import config\n",
                "startup/__init__.py": "from . import embedded\n",
                "startup/config.py": "",
                "startup/embedded.py": "from kds_backend.settings import data_dir\n",
            },
            "__main__.py: reaches kds_backend",
        ),
        (
            {"__main__.py": "def main():\n    from .startup.embedded import data_dir\n", "startup/embedded.py": ""},
            "__main__.py:2: imports kds_app.startup.embedded, the door to kds_backend",
        ),
        # a module outside the layer folders
        ({"screen.py": ""}, "not in a layer folder"),
        ({"widgets/x.py": ""}, "not in a layer folder"),
    ],
)
def test_the_check_catches(tmp_path: Path, files: dict[str, str], expected: str) -> None:
    _write(tmp_path, {"__init__.py": "", **files})
    found = violations(tmp_path)
    assert any(expected in line for line in found), found


def test_the_check_allows_upward_same_layer_and_type_only_imports(tmp_path: Path) -> None:
    _write(
        tmp_path,
        {
            "__init__.py": "",
            "__main__.py": "from .windows.app import run\ndef main():\n    from .demo.kitchen import run_demo\n",
            "windows/app.py": "from ..media import theme\nfrom .main_window import MainWindow\n",
            "input/bump_bar.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..windows.app import App\n"
            ),
            "startup/embedded.py": "from kds_backend.app import create_app\n",
            "viewmodel/screen.py": "from sync import OutboxEntry, SyncEngine, trace\n",
            # `kds` starts a companion lazily, when the settings ask for one
            "demo/kitchen.py": "from ..startup.embedded import EmbeddedCompanion\n",
            "demo/pos_sim.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from . import kitchen\n",
        },
    )
    assert violations(tmp_path) == []
