"""The local engines (DESIGN §4): Apache Kafka and FerretDB on SQLite, built once (build.py), run as
supervised children of `runpipeline` / `runmulti` (local.py), with their data under DATA_DIR, and
found by every other command through a state file there (state.py)."""
