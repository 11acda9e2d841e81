"""Mutation smoke: each mutant of mutants.MUTANTS, applied to a scratch copy of the tree, must make its
named tests fail. The copied suite runs in a child pytest on this session's engines (no engines of
its own), one mutant per test here. `pytest -m mutation` runs only these (docs/testing.md)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.mutation.mutants import MUTANTS, Mutant

pytestmark = pytest.mark.mutation
ROOT = Path(settings.BASE_DIR)
NOT_COPIED = shutil.ignore_patterns(".venv", "var", ".data", ".git", ".hypothesis", "__pycache__", "artifacts")


def mutated_tree(mutant: Mutant, workdir: Path) -> Path:
    tree = workdir / "tree"
    shutil.copytree(ROOT, tree, ignore=NOT_COPIED, symlinks=True)
    for shared in (".venv", "var"):  # the interpreter and the built engines, read only
        (tree / shared).symlink_to(ROOT / shared)
    target = tree / mutant.path
    source = target.read_text()
    assert source.count(mutant.original) == 1, (
        f"{mutant.name}: the snippet occurs {source.count(mutant.original)} times in {mutant.path} (expected once); "
        "update tests/mutation/mutants.py to the code")
    target.write_text(source.replace(mutant.original, mutant.mutated))
    return tree


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_the_mutant_is_killed(mutant, engines, tmp_path):
    tree = mutated_tree(mutant, tmp_path)
    env = {**os.environ, "TEST_KAFKA_BROKERS": settings.KAFKA_BROKERS, "TEST_MONGO_URL": settings.MONGO_URL,
           "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *mutant.tests],
        cwd=tree, env=env, capture_output=True, text=True, timeout=600,
    )
    tail = (run.stdout + run.stderr)[-3000:]
    assert run.returncode != 0, f"{mutant.name}: survived, {', '.join(mutant.tests)} passed on it\n{tail}"
    assert run.returncode == 1, f"{mutant.name}: the tests did not run (exit {run.returncode})\n{tail}"


def test_every_snippet_still_matches_the_code():
    """Cheap, and first in any run: a refactor that moves a guard must move its mutant too."""
    for mutant in MUTANTS:
        assert (ROOT / mutant.path).read_text().count(mutant.original) == 1, mutant.name
        assert all((ROOT / test.split("::")[0]).is_file() for test in mutant.tests), mutant.name
