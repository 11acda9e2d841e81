"""The --mix text and the order bodies that drive each saga path."""
import random

import pytest

from loadlab.perf.order_mix import MixError, order_body, parse_mix, pick_kind


def test_parse_mix_normalises_and_drops_zero_weights():
    assert parse_mix("happy=3, decline=1, unknown=0") == {"happy": 0.75, "decline": 0.25}


@pytest.mark.parametrize("text", ["", "happy=0", "fast=1", "happy", "happy=x", "happy=-1", "happy=inf"])
def test_parse_mix_refuses_bad_text_with_a_readable_reason(text):
    with pytest.raises(MixError):
        parse_mix(text)


def test_each_kind_takes_its_path():
    rng = random.Random(1)
    assert order_body("happy", rng)["shippingAddress"]["country"] == "US"
    assert order_body("decline", rng, auth_limit=5000)["total"] > 5000
    assert order_body("shipfail", rng)["shippingAddress"]["country"] == "BR"
    assert order_body("unknown", rng)["items"][0]["sku"].startswith("NO-SUCH-SKU-")
    with pytest.raises(MixError):
        order_body("other", rng)


def test_pick_kind_follows_the_weights():
    rng = random.Random(3)
    picks = [pick_kind({"happy": 0.9, "decline": 0.1}, rng) for _ in range(2000)]
    assert 0.85 < picks.count("happy") / len(picks) < 0.95
