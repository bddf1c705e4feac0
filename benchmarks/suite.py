"""How long the test suite takes in one process (the baseline) and spread over one
pytest-xdist worker per core, side by side, with the ratio.

Run from the project root: ``.venv/bin/python benchmarks/suite.py [pytest arguments]``,
e.g. ``benchmarks/suite.py tests/school`` for a part of it (the whole suite takes ~25 min
for both runs on 2 cores). Both runs use the same random order (one seed), SQLite unless
``DATABASE_URL`` says otherwise, and must pass with the same counts.
"""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# -q prints the summary bare ("271 passed, 10 skipped in 21.27s"), without its = rule.
SUMMARY = re.compile(r"^=*\s*(\d+ passed.*?) in [\d.]+s", re.MULTILINE)


def run(workers: str, seed: int, args: list[str]) -> tuple[float, str]:
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    command += ["-n", workers, "--dist", "loadgroup", f"--randomly-seed={seed}", *args]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, env=os.environ)
    elapsed = time.perf_counter() - started
    summary = SUMMARY.search(done.stdout)
    if done.returncode != 0 or summary is None:
        sys.exit(f"pytest -n {workers} failed ({done.returncode}):\n{done.stdout[-3000:]}")
    return elapsed, re.sub(r"\s*\(.*?\)", "", summary.group(1))


def main() -> None:
    args = sys.argv[1:]
    seed = secrets.randbelow(2**32)
    cores = os.cpu_count() or 1
    serial, serial_counts = run("0", seed, args)
    parallel, parallel_counts = run("auto", seed, args)
    if serial_counts != parallel_counts:
        sys.exit(f"Counts differ: {serial_counts!r} alone, {parallel_counts!r} in parallel")
    print(f"Suite {' '.join(args) or '(whole)'}, --randomly-seed={seed}, {cores} cores")
    print(f"  {serial_counts}")
    print(f"  one process (baseline)    {serial / 60:6.2f} min")
    print(f"  -n auto ({cores} workers)       {parallel / 60:6.2f} min")
    print(
        f"  ratio                     {parallel / serial:6.2f}  ({serial / parallel:.2f}x faster)"
    )


if __name__ == "__main__":
    main()
