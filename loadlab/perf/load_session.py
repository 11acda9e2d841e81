"""One load run with a live tqdm progress bar, shared by `loadgen` and `bench`."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

from tqdm import tqdm

from loadlab.perf.load_report import html_plot, summarize
from loadlab.perf.load_run import LoadPlan, LoadRun


def run_with_progress(plan: LoadPlan, *, progress: bool = True, desc: str = "loadgen") -> dict:
    """Run `plan` to the end (sending, then draining) and return its summary."""
    bar = tqdm(total=plan.planned, desc=desc, unit="order", disable=not progress, mininterval=0.5, leave=True)

    def on_tick(counts: dict[str, int]) -> None:
        bar.n = counts.get("sent", 0)
        bar.set_postfix(accepted=counts.get("accepted", 0), shed=counts.get("shed", 0),
                        terminal=counts.get("terminal", 0), errors=counts.get("errors", 0), refresh=False)
        bar.refresh()

    try:
        outcome = asyncio.run(LoadRun(plan, on_tick=on_tick).run())
    finally:
        bar.close()
    return summarize(outcome)


def write_result(result: dict, directory: Path, *, stem: str) -> tuple[Path, Path]:
    """The JSON result and its HTML plot, side by side in `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    json_path, html_path = directory / f"{stem}.json", directory / f"{stem}.html"
    json_path.write_text(json.dumps(result, indent=2))
    html_path.write_text(html_plot(result))
    return json_path, html_path
