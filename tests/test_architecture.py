"""Boundaries the design relies on, enforced: an app learns about another only through events."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.conf import settings

DOMAIN_APPS = ["orders", "inventory", "payments", "shipping", "projections"]
SURFACES = {"operations", "reference_compat", "loadlab"}  # packages that compose apps; no app or kernel code may need them
ROOT = Path(settings.BASE_DIR)


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", "")) in {
            "import_module", "import_string", "__import__",
        }:
            if node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


@pytest.mark.parametrize("app", DOMAIN_APPS)
def test_app_never_imports_another_app(app):
    forbidden = (set(DOMAIN_APPS) | SURFACES) - {app}
    offenders = []
    for path in (ROOT / app).rglob("*.py"):
        for module in imported_modules(path):
            if module.split(".")[0] in forbidden:
                offenders.append(f"{path.relative_to(ROOT)} imports {module}")
    assert not offenders, offenders


def test_kernel_never_imports_an_app():
    offenders = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path in (ROOT / "ecom_project").rglob("*.py")
        if "management" not in path.parts and path.name not in {"urls.py", "routing.py", "asgi.py", "settings.py"}
        for module in imported_modules(path)
        if module.split(".")[0] in set(DOMAIN_APPS) | SURFACES
    ]
    assert not offenders, offenders


def test_the_check_sees_a_violation(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("from payments.services import x\nimport importlib\nimportlib.import_module('inventory.repository')\n")
    assert {"payments.services", "inventory.repository", "importlib"} <= imported_modules(sample)
