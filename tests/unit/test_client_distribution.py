"""Issue 22, finding 5: `drift-monitor-client` is its own distribution: one top-level package (drift_client), numpy and
redis as its only dependencies (pandas optional), nothing of the monitoring project imported, and code that runs on
Python 3.9 to 3.13 (the integration test installs it alone into a fresh virtualenv and publishes with it)."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # pragma: no cover  (Python < 3.11)
    tomllib = None

CLIENT = Path(__file__).resolve().parents[2] / "drift_client"
SOURCES = sorted(CLIENT.glob("*.py"))
ALLOWED = {"drift_client", "numpy", "redis", "pandas", "__future__"} | set(sys.stdlib_module_names)
TYPES = {"int", "float", "str", "bytes", "bool", "list", "dict", "tuple", "set", "type", "object"}


def imported(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_the_client_imports_nothing_of_the_project_outside_its_package():
    for path in SOURCES:
        outside = imported(ast.parse(path.read_text())) - ALLOWED
        assert not outside, f"{path.name} imports {sorted(outside)}"


@pytest.mark.skipif(tomllib is None, reason="tomllib is Python 3.11+")
def test_its_distribution_declares_numpy_and_redis_only_and_one_package():
    project = tomllib.loads((CLIENT / "pyproject.toml").read_text())
    assert project["project"]["name"] == "drift-monitor-client"
    assert sorted(d.split(">")[0].split("=")[0] for d in project["project"]["dependencies"]) == ["numpy", "redis"]
    assert list(project["project"]["optional-dependencies"]) == ["pandas"]
    assert project["tool"]["setuptools"]["packages"] == ["drift_client"]
    assert project["project"]["requires-python"] == ">=3.9,<3.14"


def _runtime_nodes(tree: ast.AST):
    """Every node evaluated at run time: annotations are strings under `from __future__ import annotations`."""
    skip = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if a is not None and a.annotation is not None:
                    skip.add(id(a.annotation))
            if node.returns is not None:
                skip.add(id(node.returns))
        elif isinstance(node, ast.AnnAssign):
            skip.add(id(node.annotation))
    stack = [tree]
    while stack:
        node = stack.pop()
        if id(node) in skip:
            continue
        yield node
        stack.extend(ast.iter_child_nodes(node))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_the_code_runs_on_python_3_9(path):
    tree = ast.parse(path.read_text())
    assert any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and any(a.name == "annotations" for a in n.names)
               for n in tree.body) or path.name == "__init__.py", "annotations must stay strings (PEP 563)"
    for node in _runtime_nodes(tree):
        assert type(node).__name__ not in ("Match", "TypeAlias", "TryStar"), f"line {node.lineno}: 3.10+ syntax"
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | Y of types at run time: 3.10+
            sides = [node.left, node.right]
            assert not any(isinstance(s, ast.Constant) and s.value is None or isinstance(s, ast.Name) and
                           (s.id in TYPES or s.id[:1].isupper()) for s in sides), f"line {node.lineno}: a type union"
        if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) == "dataclass":
            assert not {k.arg for k in node.keywords} & {"slots", "kw_only"}, f"line {node.lineno}: dataclass 3.10+"


def test_python_3_9_compiles_it_when_present():
    """The syntax as Python 3.9 reads it, where one is installed (pyenv's too)."""
    candidates = [*(Path.home() / ".pyenv" / "versions").glob("3.9*/bin/python3.9"), Path("/usr/bin/python3.9")]
    found = next((c for c in candidates if c.exists()), None)
    if found is None:
        pytest.skip("no Python 3.9 on this machine")
    done = subprocess.run([str(found), "-m", "py_compile", *map(str, SOURCES)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
