"""Every benchmark module imports (`make bench` runs them only at release time: a moved or removed module must fail
here, in `make test`), and bench/ imports no test code."""
from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path

import pytest

import bench

ROOT = Path(__file__).resolve().parents[2]
MODULES = sorted(m.name for m in pkgutil.iter_modules(bench.__path__, prefix="bench."))


@pytest.mark.parametrize("module", MODULES)
def test_every_bench_module_imports(module):
    importlib.import_module(module)


def test_bench_imports_no_test_code():
    for path in (ROOT / "bench").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n == "tests" or n.startswith("tests.") for n in names), f"{path.name} imports {names}"


def test_make_bench_runs_every_benchmark_with_a_main():
    """Each bench module with a `__main__` block is a benchmark that `make bench` runs (the others are its helpers)."""
    makefile = (ROOT / "Makefile").read_text()
    recipe = makefile.split("\nbench:", 1)[1].split("\n\n", 1)[0]
    run = set(re.findall(r"-m (bench\.\w+)", recipe))
    mains = {m for m in MODULES if "__main__" in (ROOT / (m.replace(".", "/") + ".py")).read_text()}
    assert mains == run
