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


def run_tests(mutant: Mutant, tree: Path) -> tuple[int, str]:
    env = {**os.environ, "TEST_KAFKA_BROKERS": settings.KAFKA_BROKERS, "TEST_MONGO_URL": settings.MONGO_URL,
           "PYTHONDONTWRITEBYTECODE": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", *mutant.tests],
        cwd=tree, env=env, capture_output=True, text=True, timeout=600,
    )
    return run.returncode, (run.stdout + run.stderr)[-3000:]


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m.name for m in MUTANTS])
def test_the_mutant_is_killed(mutant, engines, tmp_path):
    returncode, tail = run_tests(mutant, mutated_tree(mutant, tmp_path))
    assert returncode != 0, f"{mutant.name}: survived, {', '.join(mutant.tests)} passed on it\n{tail}"
    assert returncode == 1, f"{mutant.name}: the tests did not run (exit {returncode})\n{tail}"


def test_a_mutant_that_changes_nothing_survives(engines, tmp_path):
    """The control: on a copy whose change is only a comment, the same kind of run passes (so a kill above
    is the mutant's doing, not a copy or environment that fails every test)."""
    control = Mutant("control", "payments/repository.py", "def payment_record_outcome(",
                     "# a comment only\ndef payment_record_outcome(", MUTANTS[0].tests)
    returncode, tail = run_tests(control, mutated_tree(control, tmp_path))
    assert returncode == 0, tail


def test_every_snippet_still_matches_the_code():
    """Cheap, and first in any run: a refactor that moves a guard must move its mutant too."""
    for mutant in MUTANTS:
        assert (ROOT / mutant.path).read_text().count(mutant.original) == 1, mutant.name
        assert all((ROOT / test.split("::")[0]).is_file() for test in mutant.tests), mutant.name
