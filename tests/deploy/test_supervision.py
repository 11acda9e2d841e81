"""ProcessGroup: prefixed output, ordered stop, SIGKILL for the stubborn, no orphans."""
from __future__ import annotations

import io
import os
import signal
import subprocess
import sys

from ecom_project.supervision import ProcessGroup
from tests.deploy.conftest import BASE_DIR
from tests.support import wait_until

CHATTY = "import time; print('hello', flush=True); time.sleep(60)"
STUBBORN = "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    with open(f"/proc/{pid}/stat") as stat:  # a zombie awaiting its reaper counts as gone
        return stat.read().split(") ")[1].startswith("Z")


def test_output_is_prefixed_and_stop_ends_every_child():
    out = io.StringIO()
    group = ProcessGroup(out=out, width=len("consume_orders"))
    first = group.start("web", [sys.executable, "-c", CHATTY], env=dict(os.environ))
    second = group.start("consume_orders", [sys.executable, "-c", CHATTY], env=dict(os.environ))
    wait_until(lambda: out.getvalue().count("hello") == 2)
    assert "web            | hello" in out.getvalue() and "consume_orders | hello" in out.getvalue()
    assert group.first_exit() is None
    group.stop(timeout=10)
    assert first.returncode == -signal.SIGTERM and second.returncode == -signal.SIGTERM


def test_a_child_ignoring_sigterm_is_killed_after_the_timeout():
    out = io.StringIO()
    group = ProcessGroup(out=out)
    child = group.start("stubborn", [sys.executable, "-c", STUBBORN], env=dict(os.environ))
    wait_until(lambda: "ready" in out.getvalue())
    group.stop(timeout=0.5)
    assert child.returncode == -signal.SIGKILL
    assert "did not stop within" in out.getvalue()


def test_first_exit_reports_a_dead_child():
    group = ProcessGroup(out=io.StringIO())
    group.start("short", [sys.executable, "-c", "raise SystemExit(3)"], env=dict(os.environ))
    assert wait_until(group.first_exit) == ("short", 3)


def test_children_die_when_the_supervisor_is_killed_hard():
    supervisor = subprocess.Popen(
        [sys.executable, "-c",
         "import io, os, sys, time\n"
         "from ecom_project.supervision import ProcessGroup\n"
         "g = ProcessGroup(out=io.StringIO())\n"
         f"p = g.start('child', [sys.executable, '-c', {CHATTY!r}], env=dict(os.environ))\n"
         "print(p.pid, flush=True); time.sleep(60)\n"],
        cwd=BASE_DIR, stdout=subprocess.PIPE, text=True,
    )
    child_pid = int(supervisor.stdout.readline())
    supervisor.kill()
    supervisor.wait(10)
    wait_until(lambda: gone(child_pid), timeout=10, message="orphaned child exits")
