"""The seed_inventory command, called as runpipeline calls it and from the command line."""
from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from inventory import repository


def seed(*args, **options) -> str:
    out = io.StringIO()
    call_command("seed_inventory", *args, stdout=out, **options)
    return out.getvalue().strip()


def test_seeds_twenty_skus_once_and_says_so():
    assert seed() == "seeded 20 of SKU-1…SKU-20 with 10000 units each; 0 already existed, left unchanged"
    assert repository.stock_find("SKU-20")["available"] == 10_000
    assert seed() == "seeded 0 of SKU-1…SKU-20 with 10000 units each; 20 already existed, left unchanged"


def test_if_empty_keyword_as_runpipeline_passes_it():
    repository.stock_adjust(sku="LIVE", delta=3, reason="received", create=True)
    assert seed(if_empty=True) == "inventory not empty: nothing seeded (--if-empty)"
    assert repository.stock_find("SKU-1") is None


def test_options_from_the_command_line_and_existing_stock_kept():
    repository.stock_adjust(sku="SKU-1", delta=7, reason="received", create=True)
    assert seed("--skus", "3", "--qty", "50").startswith("seeded 2 of SKU-1…SKU-3 with 50 units")
    assert repository.stock_find("SKU-1")["available"] == 7
    assert repository.stock_find("SKU-3")["available"] == 50


@pytest.mark.parametrize("args, message", [(["--skus", "0"], "--skus"), (["--qty", "-1"], "--qty")])
def test_bad_options_give_one_line(args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)
