"""One benchmark run, side by side on this machine: raw broker, pipeline at saturation, latency at a
fixed rate, intake alone (and, with --soak, memory over time); figures go to docs/benchmarks.md."""
from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from loadlab.perf import bench_phases, benchmarks_doc
from loadlab.perf.command_flags import one_line_errors
from loadlab.perf.load_run import LoadError
from loadlab.perf.pipeline_process import PipelineStartError

RAW_BROKER_MIN_EVENTS = 50_000


class Command(BaseCommand):
    help = (
        "Benchmark on this machine: (a) raw broker produce+consume round trip, (b) pipeline orders/s at "
        "saturation, (c) p50/p99 POST->terminal at a fixed rate, (d) POST /api/orders alone, (f) 5x (b) offered "
        "with back-pressure shedding; prints the figures and the pipeline/raw-broker event ratio, writes docs/benchmarks.md. --soak N adds an N-second RSS run."
    )

    def create_parser(self, *args, **kwargs):
        return one_line_errors(super().create_parser(*args, **kwargs))

    def add_arguments(self, parser) -> None:
        parser.add_argument("--duration", type=float, default=10.0, help="seconds of load per phase (default 10)")
        parser.add_argument("--latency-rate", type=float, default=100.0, help="offered orders/s of (c) (default 100)")
        parser.add_argument("--saturation-rate", type=float, default=1000.0, help="offered orders/s of (b) (default 1000)")
        parser.add_argument("--intake-rate", type=float, default=3000.0, help="offered POST/s of (d) (default 3000)")
        parser.add_argument("--concurrency", type=int, default=64, help="requests in flight at most (default 64)")
        parser.add_argument("--soak", type=float, default=0.0,
                            help="also run a soak of this many seconds: RSS and CPU per order per minute of each process")
        parser.add_argument("--soak-rate", type=float, default=100.0, help="offered orders/s of the soak (default 100)")
        parser.add_argument("--soak-only", action="store_true", help="run only the --soak phase")
        parser.add_argument("--out", default=str(Path(settings.BASE_DIR) / "docs" / "benchmarks.md"),
                            help="markdown file to write (default docs/benchmarks.md)")
        parser.add_argument("--no-progress", action="store_true", help="no progress bars")

    def handle(self, *args, **options) -> None:
        plan = self._plan(options)
        info = benchmarks_doc.machine()
        out = Path(options["out"])
        previous = out.read_text() if out.exists() else ""
        figures_note = None
        try:
            if options["soak_only"]:  # keep the page's figures: a memory run must not blank them
                lines, results, figures_note = benchmarks_doc.carried_figures(previous, _read_json(out.with_suffix(".json")))
            else:
                lines, results = self._side_by_side(plan)
            soak = bench_phases.soak_run(plan, seconds=options["soak"], rate=options["soak_rate"]) if options["soak"] else None
        except (LoadError, PipelineStartError, RuntimeError, OSError) as exc:  # OSError: the pipeline stopped answering
            raise CommandError(f"benchmark failed: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from None
        if soak:
            line = (f"memory over {soak['seconds']:g} s at {soak['rate']:g}/s: start {soak['startMiB']} MiB, "
                    f"end {soak['endMiB']} MiB, max {soak['maxMiB']} MiB, drift {soak['driftPercent']:+.1f} %; "
                    f"read model at the end: {soak['storeStatuses']}")
            self.stdout.write(line)
            for minute in soak["minutes"]:
                costs = ", ".join(f"{name} {ms} ms" for name, ms in minute["cpuMsPerOrder"].items())
                self.stdout.write(f"  minute {minute['minute']}: {minute['shipped']} orders shipped, CPU per order {costs}")
            results["soak"] = soak
        command = "python manage.py bench " + " ".join(shlex.quote(a) for a in sys.argv[2:])
        text = benchmarks_doc.markdown(command=command.strip(), machine_info=info, lines=lines, soak=soak,
                                       notes=benchmarks_doc.METHOD_NOTES, figures_note=figures_note)
        out.parent.mkdir(parents=True, exist_ok=True)
        current = out.read_text() if out.exists() else previous  # notes edited while it ran are kept
        out.write_text(text + benchmarks_doc.kept_notes(current))
        out.with_suffix(".json").write_text(json.dumps({"machine": info, **results}, indent=2, default=str))
        self.stdout.write(f"written {out} and {out.with_suffix('.json').name}")

    def _side_by_side(self, plan: bench_phases.BenchPlan) -> tuple[list[str], dict]:
        latency = bench_phases.pipeline_run(plan, rate=plan.latency_rate, desc=f"latency @{plan.latency_rate:g}/s")
        saturation = bench_phases.saturation_run(plan)
        overload = bench_phases.overload_run(plan, saturation=saturation["completedRate"])
        intake = bench_phases.intake_run(plan)
        # A floor keeps (a) long enough to measure: a sub-second round trip is mostly start-up.
        events = max(RAW_BROKER_MIN_EVENTS, saturation["pipelineEvents"])
        raw = bench_phases.raw_broker_run(events=events, progress=plan.progress)
        figures = benchmarks_doc.figures(raw=raw, saturation=saturation, latency=latency, intake=intake, overload=overload)
        lines = benchmarks_doc.figure_lines(figures)
        for line in lines:
            self.stdout.write(line)
        return lines, {"figures": figures, "raw": raw, "saturation": _without_series(saturation),
                       "latency": _without_series(latency), "intake": _without_series(intake),
                       "overload": _without_series(overload)}

    @staticmethod
    def _plan(options: dict) -> bench_phases.BenchPlan:
        checks = [
            ("--duration", options["duration"], 1, 3600), ("--latency-rate", options["latency_rate"], 1, 100_000),
            ("--saturation-rate", options["saturation_rate"], 1, 100_000),
            ("--intake-rate", options["intake_rate"], 1, 100_000), ("--concurrency", options["concurrency"], 1, 10_000),
            ("--soak", options["soak"], 0, 24 * 3600), ("--soak-rate", options["soak_rate"], 1, 100_000),
        ]
        for flag, value, low, high in checks:
            if not low <= value <= high:
                raise CommandError(f"{flag} must be in [{low}, {high}], got {value:g}")
        if options["soak_only"] and not options["soak"]:
            raise CommandError("--soak-only needs --soak SECONDS")
        return bench_phases.BenchPlan(
            duration=options["duration"], latency_rate=options["latency_rate"], saturation_rate=options["saturation_rate"],
            intake_rate=options["intake_rate"], concurrency=options["concurrency"], progress=not options["no_progress"],
        )


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


def _without_series(result: dict) -> dict:
    return {key: value for key, value in result.items() if key != "series"}
