#!/usr/bin/env python3
"""Markdown table of bench/certify_throughput.sh's JSON lines: per model, every tool/variant with noisy samples/s,
seconds per image at N0 + N, achieved TFLOP/s (smoothcuda's count of the model's work per sample, applied to
every row of that model) and the ratio to the best PyTorch figure of the same run.

    throughput_table.py RESULTS.jsonl [--peak-tflops P]   (P: the device's measured dense bf16 peak, for a % column)
"""
import argparse
import json


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("jsonl")
    ap.add_argument("--peak-tflops", type=float, default=0.0)
    args = ap.parse_args()
    rows = [json.loads(line) for line in open(args.jsonl) if line.strip()]
    peak = args.peak_tflops
    print("| model | tool | variant | batch | samples/s | s/image (N0+N) | TFLOP/s |" + (" % of bf16 peak |" if peak else "")
          + " vs best PyTorch |")
    print("|---|---|---|---:|---:|---:|---:|" + ("---:|" if peak else "") + "---:|")
    models = []
    for r in rows:
        key = r["model"].replace(".safetensors", "")
        r["key"] = key
        if key not in models:
            models.append(key)
    for key in models:
        group = [r for r in rows if r["key"] == key]
        flops = max((r.get("gflop_per_sample", 0) for r in group), default=0)
        torch_rates = [r["samples_per_s"] for r in group if r["tool"].startswith("pytorch")]
        best = max(torch_rates) if torch_rates else None
        for r in group:
            variant = r.get("variant") or f'{r["engine"]} {r["precision"]}'
            if r.get("cache_bytes") == "off" and r.get("device", "").startswith("cuda"):  # off by default on the CPU
                variant += " (no cache blocking)"
            if r.get("cuda_graphs") == "off":
                variant += " (no CUDA graphs)"
            if r.get("fused_stages") == "off":
                variant += " (no fused stages)"
            if r.get("wgmma") == "on":
                variant += " (wgmma convolutions)"
            if r.get("stem_16bit") == "on":
                variant += " (16-bit stem)"
            ratio = f'{r["samples_per_s"] / best:.2f}x' if best else "n/a"
            tflops = flops * r["samples_per_s"] / 1e3 if flops else None
            cells = [key, r["tool"], variant, str(r["batch"]), f'{r["samples_per_s"]:.0f}', f'{r["s_per_image"]:.3f}',
                     f"{tflops:.1f}" if tflops is not None else "n/a"]
            if peak:
                cells.append(f"{100 * tflops / peak:.1f}%" if tflops is not None else "n/a")
            cells.append(ratio)
            print("| " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
