"""The local store: FerretDB 1.24 on SQLite (MongoDB wire protocol) as a child process.

engines/ferretdb is the program: FerretDB's embeddable package behind a front door that gives
single-document writes MongoDB's atomicity and indexes lookups by _id (docs/store.md).
"""
from __future__ import annotations

import logging
import signal
import subprocess
from pathlib import Path

from ecom_project.engines import build
from ecom_project.supervision import die_with_parent, free_port, stop_child, wait_listening

log = logging.getLogger(__name__)


class LocalFerretDB:
    def __init__(self, *, data_dir: Path, log_path: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.log_path = log_path
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, *, timeout: float = 30.0, say: build.Say = print) -> "LocalFerretDB":
        binary = build.ensure_ferretdb(say)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as out:
            self.process = subprocess.Popen(
                [str(binary), "-listen", f"127.0.0.1:{self.port}", "-sqlite-dir", str(self.data_dir)],
                stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=die_with_parent(signal.SIGTERM),
            )
        try:
            wait_listening(self.process, self.port, timeout=timeout, name=f"FerretDB (log: {self.log_path})")
        except RuntimeError as exc:
            raise build.EngineError(str(exc)) from None
        log.info("local FerretDB started", extra={"url": self.url, "pid": self.process.pid})
        return self

    def stop(self, *, timeout: float = 15.0) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        stop_child(self.process, signal.SIGTERM, timeout=timeout)
        log.info("local FerretDB stopped", extra={"url": self.url})
