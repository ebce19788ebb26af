#!/usr/bin/env python3
"""Markdown table of bench/certify_throughput.sh's JSON lines: per model, every tool/variant with noisy samples/s,
seconds per image at N0 + N, and the ratio to the best PyTorch figure of the same run."""
import json
import sys


def main():
    rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
    print("| model | tool | variant | batch | samples/s | s/image (N0+N) | vs best PyTorch |")
    print("|---|---|---|---:|---:|---:|---:|")
    models = []
    for r in rows:
        key = r["model"].replace(".safetensors", "")
        r["key"] = key
        if key not in models:
            models.append(key)
    for key in models:
        group = [r for r in rows if r["key"] == key]
        torch_rates = [r["samples_per_s"] for r in group if r["tool"].startswith("pytorch")]
        best = max(torch_rates) if torch_rates else None
        for r in group:
            variant = r.get("variant") or f'{r["engine"]} {r["precision"]}'
            ratio = f'{r["samples_per_s"] / best:.2f}x' if best else "n/a"
            print(f'| {key} | {r["tool"]} | {variant} | {r["batch"]} | {r["samples_per_s"]:.0f} | '
                  f'{r["s_per_image"]:.3f} | {ratio} |')


if __name__ == "__main__":
    main()
