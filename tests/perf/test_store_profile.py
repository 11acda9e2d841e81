"""`manage.py store_profile`: store commands per finished order, counted in a real pipeline."""
from __future__ import annotations

import re

import pytest

from tests.support import manage

pytestmark = pytest.mark.integration


def test_it_counts_the_store_commands_of_finished_orders(engines):
    run = manage("store_profile", "--orders", "4", "--rate", "20", "--timeout", "120", timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    per_order = float(re.search(r"4 orders finished in [\d.]+ s; store commands per order: ([\d.]+)", run.stdout)[1])
    assert 5 < per_order < 60, run.stdout  # every consumer wrote; today about 20
    rows = {tuple(line.split()[1:4]) for line in run.stdout.splitlines() if re.match(r"\s+\d+\.\d\d\s", line)}
    assert ("update", "orders", "ConsumerRunner") in rows and ("insert", "shipments", "ConsumerRunner") in rows
    assert "CPU per order: pipeline" in run.stdout


def test_bad_flags_are_one_line_errors():
    run = manage("store_profile", "--orders", "0")
    assert run.returncode != 0 and run.stderr.strip().count("\n") == 0 and "must be positive" in run.stderr
