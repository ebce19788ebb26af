#!/usr/bin/env python3
"""Per-kernel GPU time from an Nsight Compute CSV (ncu --csv --metrics gpu__time_duration.sum --log-file F):
kernels grouped by name and launch shape, with their share of the profiled launches' total, as Markdown.

    bench/ncu_summary.py NCU.csv [--batches B | --batch-marker NAME] [--top K]

--batches: how many batches the profiled launches cover, to print time per batch. --batch-marker: a kernel
launched once per batch (the classifier's head, say), for a sequence whose launches per batch are not known
beforehand: only the launches after its first launch up to its last one count, as that many whole batches."""
import argparse
import collections
import csv
import io
import sys

UNIT = {"nsecond": 1e-3, "usecond": 1.0, "msecond": 1e3, "second": 1e6, "ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}  # to us


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("csv")
    ap.add_argument("--batches", type=float, default=1.0)
    ap.add_argument("--batch-marker", default="")
    ap.add_argument("--top", type=int, default=25)
    args = ap.parse_args()
    with open(args.csv) as f:
        rows = [line for line in f if line.startswith('"')]  # ncu's own ==PROF== lines are not CSV
    if not rows:
        sys.exit(f"ncu_summary: no CSV rows in {args.csv}")
    launches = [r for r in csv.DictReader(io.StringIO("".join(rows))) if r.get("Metric Name") == "gpu__time_duration.sum"]
    batches = args.batches
    if args.batch_marker:
        marks = [i for i, r in enumerate(launches) if args.batch_marker in r["Kernel Name"].split("(")[0]]
        if len(marks) < 2:
            sys.exit(f"ncu_summary: {len(marks)} launches of {args.batch_marker}: no whole batch among the profiled launches")
        launches, batches = launches[marks[0] + 1 : marks[-1] + 1], len(marks) - 1
    total = collections.defaultdict(float)
    count = collections.Counter()
    for r in launches:
        unit = r["Metric Unit"].strip()
        if unit not in UNIT:
            sys.exit(f"ncu_summary: unknown time unit '{unit}'")
        name = r["Kernel Name"].split("(")[0][:70]
        key = (name, r.get("Grid Size", ""), r.get("Block Size", ""))
        total[key] += float(r["Metric Value"].replace(",", "")) * UNIT[unit]
        count[key] += 1
    whole = sum(total.values())
    print(f"{sum(count.values())} launches, {whole:.1f} us in all, {whole / batches:.1f} us per batch\n")
    print("| kernel | grid | block | launches | us per batch | share |")
    print("|---|---|---|---:|---:|---:|")
    for key, us in sorted(total.items(), key=lambda kv: -kv[1])[: args.top]:
        name, grid, block = key
        print(f"| {name} | {grid} | {block} | {count[key]} | {us / batches:.1f} | {100 * us / whole:.1f}% |")


if __name__ == "__main__":
    main()
