"""Builds the local engines once (DESIGN §4): Apache Kafka's jars, resolved from Maven Central by
engines/kafka/pom.xml, and the FerretDB store program, built from engines/ferretdb by Go.

Both land in var/engines/ and are rebuilt only when their sources change.
`python -m ecom_project.engines.build` (what `make engines` runs) builds what the environment
needs: nothing for an engine that KAFKA_BROKERS or MONGO_URL points elsewhere.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

SOURCES = Path(__file__).resolve().parents[2] / "engines"
BUILT = Path(__file__).resolve().parents[2] / "var" / "engines"
KAFKA_LIBS = BUILT / "kafka" / "libs"
FERRETDB_BINARY = BUILT / "ferretdb-local"
LOG4J_CONFIG = SOURCES / "kafka" / "log4j2.properties"

Say = Callable[[str], None]


class EngineError(Exception):
    """A local engine cannot be built or started; the message is one line that says what to do."""


def java_binary() -> str:
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home) / "bin" / "java") if home else shutil.which("java")
    if not java or not os.access(java, os.X_OK):
        raise EngineError("Java 17+ runs the local Kafka broker and was not found: install a JDK/JRE 17 "
                          "(apt-get install openjdk-17-jre-headless), or set KAFKA_BROKERS=host:port to use a running Kafka")
    return java


def ensure_kafka(say: Say = print) -> Path:
    """The directory of Kafka's jars, resolved once (Maven Central, ~45 MB) and then reused."""
    java_binary()
    stamp = BUILT / "kafka" / f".pom-{_digest([SOURCES / 'kafka' / 'pom.xml'])}"
    if stamp.exists():
        return KAFKA_LIBS
    mvn = shutil.which("mvn")
    if not mvn:
        raise EngineError("Maven fetches the local Kafka broker's jars (once) and was not found: install it "
                          "(apt-get install maven), or set KAFKA_BROKERS=host:port to use a running Kafka")
    say(f"resolving Apache Kafka's jars from Maven Central into {_shown(KAFKA_LIBS)} (once, ~45 MB)")
    shutil.rmtree(KAFKA_LIBS, ignore_errors=True)
    _run([mvn, "-B", "-q", "-f", str(SOURCES / "kafka" / "pom.xml"), "dependency:copy-dependencies",
          "-DincludeScope=runtime", f"-DoutputDirectory={KAFKA_LIBS}"], what="Maven", say=say)
    for old in stamp.parent.glob(".pom-*"):
        old.unlink()
    stamp.touch()
    return KAFKA_LIBS


def ensure_ferretdb(say: Say = print) -> Path:
    """The store program, built once by Go (~2 min the first time) and again when its source changes."""
    sources = sorted((SOURCES / "ferretdb").glob("*.go")) + [SOURCES / "ferretdb" / "go.mod", SOURCES / "ferretdb" / "go.sum"]
    stamp = FERRETDB_BINARY.with_name(f".ferretdb-{_digest(sources)}")
    if stamp.exists() and FERRETDB_BINARY.exists():
        return FERRETDB_BINARY
    go = shutil.which("go")
    if not go:
        raise EngineError("Go 1.24+ builds the local store (FerretDB) once and was not found: install Go, "
                          "or set MONGO_URL=mongodb://host:port to use a running MongoDB")
    say(f"building the local store program (FerretDB 1.24 on SQLite) into {_shown(FERRETDB_BINARY)} (once, ~2 min)")
    BUILT.mkdir(parents=True, exist_ok=True)
    _run([go, "build", "-trimpath", "-o", str(FERRETDB_BINARY), "."], what="go build", say=say, cwd=SOURCES / "ferretdb")
    for old in BUILT.glob(".ferretdb-*"):
        old.unlink()
    stamp.touch()
    return FERRETDB_BINARY


def _run(argv: list[str], *, what: str, say: Say, cwd: Path | None = None) -> None:
    started = time.monotonic()
    result = subprocess.run(argv, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip().splitlines()
        raise EngineError(f"{what} failed (exit {result.returncode}): {detail[-1] if detail else 'no output'}")
    say(f"  done in {time.monotonic() - started:.0f} s")


def _digest(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def main() -> int:
    try:
        if not os.environ.get("MONGO_URL"):
            ensure_ferretdb()
        if not os.environ.get("KAFKA_BROKERS"):
            ensure_kafka()
    except EngineError as exc:
        print(f"engines: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
