"""Undefined names and unused imports, everywhere — including tests that only run with a real MongoDB."""
from __future__ import annotations

import subprocess
import sys

from django.conf import settings


def test_pyflakes_rules_pass_on_the_whole_tree():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--select", "F,E9", "--exclude", ".venv", "--output-format", "concise", "."],
        cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
