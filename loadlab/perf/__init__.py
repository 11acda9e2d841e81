"""Performance tooling: the load generator's engine and report, and the benchmark's parts."""
