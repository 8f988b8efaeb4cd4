"""The package's import graph: no cycle between modules and no import from a lower layer to a higher one, function-
local imports included (issue 24, item 5). The layers, lowest first, are :data:`LAYERS`; a module belongs to the
layer of the longest pattern that names it."""

from __future__ import annotations

import ast
from fnmatch import fnmatch
from pathlib import Path

import networkx as nx
import pytest

from .conftest import ROOT

SRC = ROOT / "src"

# Lowest first. A module may import modules of its own layer or of lower ones (never a cycle), never a higher one.
LAYERS: list[tuple[str, list[str]]] = [
    ("core: checks, paths, the cache, the training loop, hardware precision, stored throughput, and a job's "
     "description (a trainer named by its module path, its arguments, its lock and done marker)",
     ["repro", "repro.core", "repro.core.*", "repro.jobs.spec"]),
    ("foundations: data, channels, codes, image metrics, the DNA codec and decoder, the study's protocol (profiles, "
     "results with provenance, sanity and verdict rules, plots of result tables, the figure registry)",
     ["repro.data*", "repro.channels*", "repro.coding*", "repro.metrics", "repro.metrics.*", "repro.dna", "repro.dna.*",
      "repro.bundle", "repro.bundle.profiles", "repro.parts*",
      "repro.bundle.results", "repro.bundle.sanity", "repro.bundle.verdict",
      "repro.bundle.compare", "repro.bundle.plotting", "repro.bundle.nbclean", "repro.bundle.reference*",
      "repro.plots*"]),
    ("models", ["repro.models*"]),
    ("systems: the communication systems, FID (a trained classifier's features), latents stored as DNA",
     ["repro.systems*", "repro.metrics.fid", "repro.dna.storage", "repro.dna.pipeline", "repro.dna.peers"]),
    ("experiments: each paper part's settings, jobs and evaluation; what training costs here",
     ["repro.experiments*"]),
    ("jobs: local and Ray workers", ["repro.jobs*"]),
    ("the bundle's roof: ledger, report, notebook runner, site, drift checks",
     ["repro.bundle.claims", "repro.bundle.report", "repro.bundle.runner", "repro.bundle.site", "repro.bundle.drift",
      "repro.bundle.replot", "repro.cli"]),
]


def modules() -> dict[str, Path]:
    out = {}
    for f in sorted((SRC / "repro").rglob("*.py")):
        parts = f.relative_to(SRC).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = f
    return out


def imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The package's modules that ``name`` imports anywhere in its file (top level or inside functions)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                up = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join(up + ([node.module] if node.module else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        else:
            continue
        for t in targets:
            while t and t not in known:  # `import repro.dna.codec` and `from repro.dna import codec` alike
                t = t.rpartition(".")[0]
            if t and t != name:
                found.add(t)
    return found


def layer_of(module: str) -> int:
    best, best_len = None, -1
    for i, (_, patterns) in enumerate(LAYERS):
        for pattern in patterns:
            if fnmatch(module, pattern) and len(pattern) > best_len:
                best, best_len = i, len(pattern)
    if best is None:
        pytest.fail(f"module {module} is in no layer of tests/test_layers.py: add it to LAYERS")
    return best


@pytest.fixture(scope="module")
def graph() -> nx.DiGraph:
    mods = modules()
    g = nx.DiGraph()
    for name, path in mods.items():
        g.add_node(name)
        for target in imports(name, path, set(mods)):
            if target != "repro" or name == "repro":  # `repro` itself holds only the version
                g.add_edge(name, target)
    return g


def test_every_module_has_a_layer(graph):
    for module in graph.nodes:
        layer_of(module)


def test_no_import_cycle(graph):
    cycles = list(nx.simple_cycles(graph))
    assert not cycles, f"{len(cycles)} import cycles, e.g. {' -> '.join(min(cycles, key=len))}"


def test_no_import_from_a_lower_layer_to_a_higher_one(graph):
    upward = [f"{a} ({layer_of(a)}) -> {b} ({layer_of(b)})" for a, b in graph.edges if layer_of(a) < layer_of(b)]
    assert not upward, "imports that run up the layers:\n" + "\n".join(sorted(upward))


def test_the_graph_sees_function_local_and_relative_imports(tmp_path):
    pkg = tmp_path / "repro" / "x"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from repro.x import b\n    from . import c\n")
    found = imports("repro.x.a", pkg / "a.py", {"repro", "repro.x", "repro.x.a", "repro.x.b", "repro.x.c"})
    assert found == {"repro.x", "repro.x.b", "repro.x.c"}
