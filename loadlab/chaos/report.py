"""What a chaos run found, and its printed form."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from loadlab.chaos.invariants import Check


@dataclass
class Report:
    seed: int
    orders: int
    faults_planned: Counter = field(default_factory=Counter)
    faults_injected: Counter = field(default_factory=Counter)
    restarts: Counter = field(default_factory=Counter)
    outcomes: Counter = field(default_factory=Counter)
    refused: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)
    events_read: int = 0

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks) and not self.refused


def report_lines(report: Report) -> list[str]:
    lines = [f"chaos run: {report.orders} orders, seed {report.seed}"]
    planned, injected = report.faults_planned, report.faults_injected
    lines.append(f"faults injected: {sum(injected.values())} (planned {sum(planned.values())})")
    lines += [f"  {kind:<22} {injected.get(kind, 0):>5} injected / {planned[kind]:>4} planned" for kind in sorted(planned)]
    lines.append(f"supervisor restarts: {sum(report.restarts.values())} " + (str(dict(report.restarts)) if report.restarts else ""))
    lines.append("orders by outcome: " + ", ".join(f"{s} {n}" for s, n in sorted(report.outcomes.items())))
    if report.refused:
        lines.append(f"orders refused by the API: {len(report.refused)} (e.g. {report.refused[0]})")
    lines.append(f"events read back from the topics: {report.events_read}")
    lines.append("invariants:")
    lines += ["  " + check.line() for check in report.checks]
    lines.append("time: " + ", ".join(f"{k} {v:.1f} s" for k, v in report.seconds.items()))
    lines.append("RESULT: " + ("no violations" if report.ok else "VIOLATIONS"))
    return lines
