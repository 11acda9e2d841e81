"""Child processes (the local engines, `runmulti`'s processes): started on free loopback ports,
output prefixed, stopped together, never orphaned."""
from __future__ import annotations

import ctypes
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from typing import TextIO

_PR_SET_PDEATHSIG = 1


def die_with_parent(signum: int) -> Callable[[], None]:
    """A `preexec_fn` for a child that must not outlive its parent: if the parent is killed hard and
    cannot stop it, the (Linux) kernel sends the child `signum`."""

    def arm() -> None:
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signum)
        except OSError:
            pass

    return arm


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answers(host: str, port: int, *, timeout: float = 0.5) -> bool:
    """Something accepts TCP connections at host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_listening(process: subprocess.Popen, port: int, *, timeout: float, name: str) -> None:
    """Wait until the child accepts connections on 127.0.0.1:port; RuntimeError (one line) if it exits
    or does not listen in time (then it is stopped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited at start with code {process.returncode}")
        if answers("127.0.0.1", port, timeout=0.2):
            return
        time.sleep(0.05)
    stop_child(process, signal.SIGTERM, timeout=5)
    raise RuntimeError(f"{name} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def stop_child(process: subprocess.Popen, signum: int, *, timeout: float) -> bool:
    """Send `signum` to a running child, wait up to `timeout` s, then SIGKILL it; True if it had to be killed."""
    if process.poll() is not None:
        return False
    process.send_signal(signum)
    try:
        process.wait(timeout)
        return False
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return True


class ProcessGroup:
    """Named child processes whose merged stdout/stderr lines are written to `out` as `name | line`.

    Names are padded to `width` (give the longest name to be started, so that every line
    aligns from the first; a longer name started later widens the lines after it)."""

    def __init__(self, *, out: TextIO, width: int = 12) -> None:
        self.out = out
        self.children: dict[str, subprocess.Popen[str]] = {}
        self._write_lock = threading.Lock()
        self._width = width

    def start(self, name: str, argv: Sequence[str], *, env: dict[str, str]) -> subprocess.Popen[str]:
        # A session of its own: a terminal's Ctrl-C reaches only the supervisor, which stops children in order.
        process = subprocess.Popen(
            list(argv), env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, bufsize=1, start_new_session=True, preexec_fn=die_with_parent(signal.SIGTERM),
        )
        self.children[name] = process
        self._width = max(self._width, len(name))
        threading.Thread(target=self._pump, args=(name, process), name=f"pump-{name}", daemon=True).start()
        return process

    def _pump(self, name: str, process: subprocess.Popen[str]) -> None:
        for line in process.stdout:
            self.say(name, line.rstrip("\n"))

    def say(self, name: str, line: str) -> None:
        with self._write_lock:
            self.out.write(f"{name:<{self._width}} | {line}\n")
            self.out.flush()

    def first_exit(self) -> tuple[str, int] | None:
        for name, process in self.children.items():
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop(self, *, timeout: float = 20.0) -> None:
        """SIGTERM every child (consumers finish their batch and commit), SIGKILL what outlives `timeout`."""
        running = [(n, p) for n, p in reversed(self.children.items()) if p.poll() is None]
        for _, process in running:
            self._signal(process, signal.SIGTERM)
        for name, process in running:
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.say(name, f"did not stop within {timeout:.0f}s: killed")
                self._signal(process, signal.SIGKILL)
                process.wait()

    @staticmethod
    def _signal(process: subprocess.Popen[str], signum: int) -> None:
        try:
            os.killpg(process.pid, signum)  # the child's own session: its helpers too
        except ProcessLookupError:
            pass
