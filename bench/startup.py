"""Benchmark: CPU seconds of the command-line entry points, side by side with a bare
`python -c pass` in the same run.

Prints JSON lines: per command the median CPU seconds (user + system) of five runs and its ratio
to the bare interpreter. Targets (issue 17): `hedgebot --help`
under 0.3 s and `hedgecore plan 1.2 BTC --snapshot FILE --json` under 0.4 s of CPU.
Usage: .venv/bin/python bench/startup.py
"""

from __future__ import annotations

import json
import resource
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SNAPSHOT = ROOT / "tests" / "data" / "bybit_2025-04-28_snapshot.json"
RUNS = 5
COMMANDS = {
    "python -c pass": ([sys.executable, "-c", "pass"], None),
    "hedgebot --help": ([str(BIN / "hedgebot"), "--help"], 0.3),
    "hedgecore plan --snapshot --json": (
        [str(BIN / "hedgecore"), "plan", "1.2", "BTC", "--snapshot", str(SNAPSHOT), "--json"],
        0.4,
    ),
}


def cpu_s(argv: list[str]) -> float:
    """CPU seconds (user and system) of one run of `argv`."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(argv, check=True, capture_output=True, cwd=ROOT)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    baseline = None
    for name, (argv, target) in COMMANDS.items():
        cpu = statistics.median(cpu_s(argv) for _ in range(RUNS))
        baseline = baseline or cpu
        print(
            json.dumps(
                {
                    "bench": "startup",
                    "command": name,
                    "median_cpu_s": round(cpu, 3),
                    "ratio_to_bare_python": round(cpu / baseline, 1),
                    "target_cpu_s": target,
                }
            )
        )


if __name__ == "__main__":
    main()
