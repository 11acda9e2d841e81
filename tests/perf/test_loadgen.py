"""`loadgen` end to end against a real all-in-one pipeline (a few seconds, bounded); bad flags.

Figures are printed, never asserted: the machine is shared and timing is not what is tested."""
import json
import subprocess
import sys

import pytest
from django.conf import settings
from django.core.management import call_command

from ecom_project.perf.pipeline_process import PipelineProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def pipeline():
    with PipelineProcess() as process:
        yield process


def test_smoke_run_follows_orders_to_their_end_over_the_websocket(pipeline, tmp_path, capsys):
    call_command(
        "loadgen", "--rate", "10", "--duration", "3", "--base-url", pipeline.base_url, "--out", str(tmp_path),
        "--mix", "happy=0.5,decline=0.2,shipfail=0.15,unknown=0.15", "--drain-timeout", "60", "--no-progress",
    )
    printed = capsys.readouterr().out
    assert "POST->terminal latency p50" in printed
    result = json.loads(next(tmp_path.glob("loadgen-*.json")).read_text())
    assert result["sent"] > 0 and result["accepted"] == result["sent"], result["errors"]
    assert result["terminal"] > 0 and result["feedMessages"] > 0
    assert set(result["outcomes"]) <= {"SHIPPED", "REJECTED", "CANCELLED"}
    assert result["unexpectedOutcomes"] == {}, "an order kind ended in a status its path does not lead to"
    assert result["latency"]["count"] == result["terminal"]
    page = next(tmp_path.glob("loadgen-*.html")).read_text()
    assert "<svg" in page


@pytest.mark.parametrize("argv, reason", [
    (["--rate", "0"], "--rate must be in"),
    (["--rate", "many"], "--rate must be a number"),
    (["--mix", "happy=1,fast=2"], "--mix part"),
    (["--base-url", "ftp://127.0.0.1:1"], "--base-url must look like"),
    (["--rate", "1", "--duration", "1", "--base-url", "http://127.0.0.1:9", "--no-progress"], "is not reachable"),
    (["--concurrency", "x"], "--concurrency must be a number"),
    (["--nonsense"], "unrecognized arguments"),
])
def test_bad_input_is_one_readable_line_and_a_non_zero_exit(argv, reason):
    done = subprocess.run([sys.executable, "manage.py", "loadgen", *argv], cwd=settings.BASE_DIR,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert reason in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr
