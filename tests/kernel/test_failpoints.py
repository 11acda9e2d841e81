from __future__ import annotations

import pytest

from ecom_project.messaging import failpoints


@pytest.fixture(autouse=True)
def _disarm():
    yield
    failpoints.disable()


def test_disarmed_failpoints_do_nothing():
    for name in failpoints.KNOWN:
        failpoints.hit(name)


def test_fires_on_the_nth_hit_the_given_number_of_times():
    failpoints.enable("runner.after_effects", after=2, times=2)
    failpoints.hit("runner.after_effects")
    failpoints.hit("runner.after_effects")
    for _ in range(2):
        with pytest.raises(failpoints.Crash):
            failpoints.hit("runner.after_effects")
    failpoints.hit("runner.after_effects")
    assert failpoints.fired("runner.after_effects") == 2


def test_handler_raise_is_an_ordinary_error_and_crash_is_not():
    failpoints.enable("handler.raise", times=0)
    with pytest.raises(failpoints.InjectedError):
        failpoints.hit("handler.raise")
    assert not issubclass(failpoints.Crash, Exception)


def test_unknown_failpoint_is_refused():
    with pytest.raises(ValueError, match="unknown failpoint"):
        failpoints.enable("nope")
