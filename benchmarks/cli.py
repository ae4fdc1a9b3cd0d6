"""Start-up time of the `scenarist` command: `--help`, `--version` and `validate` of the demo.

    python benchmarks/cli.py [--runs 7] [--source DIR]

Writes the example project once (`scenarist init --example fraud`, 200 rows per quarter) into a
temporary folder, then runs each command `--runs` times as a fresh subprocess, interleaved so
that a burst of load on the machine hits every command alike, and prints the median and minimum
wall time of each beside `python -c pass` (the interpreter's own start-up) from the same run.

`--source DIR` runs the commands from another copy of the package (a folder holding
`scenarist/`, e.g. `git archive COMMIT scenarist | tar -x -C DIR`) instead of the installed one,
to measure a before/after pair on the same machine in the same minute.
"""

from __future__ import annotations

import argparse
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


def wall_time(argv: list[str]) -> float:
    """Seconds from spawn to exit of one run (its output discarded)."""
    start = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


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
        times: dict[str, list[float]] = {name: [] for name in cases}
        for argv in cases.values():  # one warm-up each: file cache, .pyc
            wall_time(argv)
        for _ in range(runs):
            for name, argv in cases.items():
                times[name].append(wall_time(argv))
    print(f"{runs} runs each, {'source ' + args.source if args.source else 'installed'} "
          f"scenarist, Python {sys.version.split()[0]}")
    print(f"{'command':<28}{'median s':>10}{'min s':>10}")
    for name, values in times.items():
        print(f"{name:<28}{statistics.median(values):>10.3f}{min(values):>10.3f}")


if __name__ == "__main__":
    main()
