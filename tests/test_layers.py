"""The package's shape: data flows load -> scan -> requirements -> generate | lint -> render -> write,
and no module imports one that stands later in that line (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "policygen"
# The layers, earliest first. A module may import its own layer and earlier ones; generate and
# lint are two branches of one layer, and only lint.fix may use generate (it writes what generate
# would); iam/ serves both branches and sits below them.
LAYERS = (
    ("errors", "rules_data"),
    ("load",),
    ("iam",),
    ("scan",),
    ("requirements",),
    ("generate", "lint"),
    ("render",),
    ("write",),
    ("pipeline", "per_machine", "audit"),
    ("pipeline_lint",),
    ("cli", "cli_options", "cli_audit", "cfnlint"),
    ("console", "__main__"),
)
MAX_LINES = 450
CLI_MAX_LINES = 250


def _modules() -> dict[str, Path]:
    return {
        ".".join(("policygen", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__"): path
        for path in sorted(PACKAGE.rglob("*.py"))
    }


def _imports(path: Path) -> set[str]:
    """Every policygen module `path` imports, at the top or inside a function."""
    found = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in list(ast.walk(tree)):
        if isinstance(node, ast.If) and ast.unparse(node.test) in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            node.body = []  # imports only for annotations do not run
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("policygen"))
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("policygen"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    modules = _modules()
    return {name for name in found if name in modules}


def _layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else "__init__"
    if top == "__init__":
        return 0
    for index, names in enumerate(LAYERS):
        if top in names:
            return index
    raise AssertionError(f"{module}: in no layer of tests/test_layers.py")


def _branch(module: str) -> str:
    return module.split(".")[1] if "." in module else ""


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_imports_only_earlier_layers(module):
    path = _modules()[module]
    for imported in sorted(_imports(path)):
        if imported == "policygen" or module == "policygen":
            continue
        assert _layer(imported) <= _layer(module), f"{module} imports {imported}, which stands later in the flow"
        if _layer(imported) == _layer(module) and {_branch(module), _branch(imported)} == {"generate", "lint"}:
            assert module.startswith("policygen.lint.fix") and _branch(imported) == "generate", (
                f"{module} imports {imported}: generate and lint are separate branches"
            )


def test_no_import_cycles():
    graph = {module: _imports(path) - {module} for module, path in _modules().items()}
    done: set[str] = set()

    def visit(module: str, stack: list[str]) -> None:
        if module in stack:
            raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(module):] + [module]))
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            if imported != "policygen":
                visit(imported, stack + [module])
        done.add(module)

    for module in sorted(graph):
        visit(module, [])


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_is_small(module):
    lines = len(_modules()[module].read_text(encoding="utf-8").splitlines())
    limit = CLI_MAX_LINES if module == "policygen.cli" else MAX_LINES
    assert lines <= limit, f"{module} has {lines} lines; split it (limit {limit})"


@pytest.mark.parametrize("module", sorted(_modules()))
def test_module_imports_alone(module):
    """Each module imports in a fresh interpreter, first: no hidden dependence on import order."""
    if module.endswith("__main__"):
        pytest.skip("runs the CLI")
    subprocess.run([sys.executable, "-c", f"import {module}"], check=True, cwd=PACKAGE.parent)


def test_pyproject_ships_every_package():
    """A package missing from pyproject.toml's list works in the source tree and is absent once installed."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parent / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    packages = {".".join(init.parent.relative_to(PACKAGE.parent).parts) for init in PACKAGE.rglob("__init__.py")}
    assert packages <= listed, f"add to [tool.setuptools] packages: {sorted(packages - listed)}"
