"""The _core typing stub names exactly what the compiled module defines."""

import ast
import pathlib

import dualnet
from dualnet import _core


def _stub_names():
    stub = pathlib.Path(dualnet.__file__).with_name("_core.pyi")
    tree = ast.parse(stub.read_text())
    top = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            top[node.name] = {
                n.name for n in node.body if isinstance(n, (ast.FunctionDef, ast.AnnAssign))
            }
        elif isinstance(node, ast.FunctionDef):
            top[node.name] = None
    return top


def test_stub_matches_module():
    stub = _stub_names()
    module = {name for name in dir(_core) if not name.startswith("_")}
    assert set(stub) == module
    for cls, members in stub.items():
        if members is None:
            continue
        actual = {name for name in dir(getattr(_core, cls)) if not name.startswith("_")}
        assert {m for m in members if not m.startswith("_")} == actual, cls


# The one private name, absent from the stub: _sanitizer_probe, compiled only into builds configured
# with DUALNET_SANITIZE (tests/test_sanitizer.py runs it there).
KNOWN_PRIVATE = {"_sanitizer_probe"}


def test_private_module_names_are_known_hooks():
    private = {n for n in dir(_core) if n.startswith("_") and not n.startswith("__")}
    assert private <= KNOWN_PRIVATE
