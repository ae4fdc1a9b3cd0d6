"""Start-up time of the `scenarist` command: `--help`, `--version` and `validate` of the demo.

    python benchmarks/cli.py [--runs 7] [--source DIR]

Writes the example project once (`scenarist init --example fraud`, 200 rows per quarter) into a
temporary folder, then runs each command `--runs` times as a fresh subprocess, interleaved so
that a burst of load on the machine hits every command alike, and prints the median and minimum
wall time of each beside `python -c pass` (the interpreter's own start-up) from the same run, and
the median CPU time (user + system) of the child, which load on a shared machine inflates less.

`--source DIR` runs the commands from another copy of the package (a folder holding
`scenarist/`, e.g. `git archive COMMIT scenarist | tar -x -C DIR`) instead of the installed one,
to measure a before/after pair on the same machine in the same minute.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# what the `scenarist` console script does, but importing the package from `source`
LAUNCHER = (
    "import sys; sys.path.insert(0, {source!r}); "
    "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]; "
    "from scenarist.cli import app; sys.argv[0] = 'scenarist'; sys.exit(app())"
)


def command(source: str | None) -> list[str]:
    """The argv prefix that runs `scenarist` (installed, or from `source`)."""
    if source is not None:
        return [sys.executable, "-c", LAUNCHER.format(source=str(Path(source).resolve()))]
    script = Path(sys.executable).with_name("scenarist")
    return [str(script)] if script.exists() else [shutil.which("scenarist") or "scenarist"]


def timed(argv: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds from spawn to exit of one run (its output discarded); CPU is the
    child's user + system time, which other load on the machine inflates far less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="Runs per command (at least 5).")
    parser.add_argument("--source", help="Folder holding another scenarist/ package to time.")
    args = parser.parse_args()
    runs = max(args.runs, 5)
    scenarist = command(args.source)
    with tempfile.TemporaryDirectory() as temp:
        demo = Path(temp) / "demo"
        subprocess.run([*command(None), "init", "--example", "fraud", str(demo), "--rows", "200"],
                       check=True, stdout=subprocess.DEVNULL)
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "scenarist --help": [*scenarist, "--help"],
            "scenarist --version": [*scenarist, "--version"],
            "scenarist validate <demo>": [*scenarist, "validate", str(demo)],
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
        for argv in cases.values():  # one warm-up each: file cache, .pyc
            timed(argv)
        for _ in range(runs):
            for name, argv in cases.items():
                times[name].append(timed(argv))
    print(f"{runs} runs each, {'source ' + args.source if args.source else 'installed'} "
          f"scenarist, Python {sys.version.split()[0]}, load average {os.getloadavg()[0]:.1f}")
    print(f"{'command':<28}{'median s':>10}{'min s':>10}{'median CPU s':>14}")
    for name, values in times.items():
        walls, cpus = [w for w, _ in values], [c for _, c in values]
        print(f"{name:<28}{statistics.median(walls):>10.3f}{min(walls):>10.3f}"
              f"{statistics.median(cpus):>14.3f}")


if __name__ == "__main__":
    main()
