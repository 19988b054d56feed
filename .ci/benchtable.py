#!/usr/bin/env python3
"""Reads the JSON lines of `make bench` on stdin (metriclab bench --json and
the PyTorch peer ../shared/peers/torch_cpu.py) and prints the README's table:
img/s of both on each model and thread count, and their ratio. Lines that are
not JSON objects with img_per_s are passed over."""
import json
import sys

runs = {}  # (arch, threads) -> {"metriclab": x, "pytorch": y}
order = []
for line in sys.stdin:
    try:
        r = json.loads(line)
    except ValueError:
        continue
    if not isinstance(r, dict) or "img_per_s" not in r:
        continue
    who = "metriclab" if r.get("peer", "").startswith("metriclab") else "pytorch"
    key = (r["arch"], int(r["threads"]))
    if key not in runs:
        runs[key] = {}
        order.append(key)
    runs[key][who] = r["img_per_s"]

print("| model | threads | metriclab img/s | PyTorch img/s | ratio |")
print("|---|---|---|---|---|")
for arch, threads in order:
    m, p = runs[(arch, threads)].get("metriclab"), runs[(arch, threads)].get("pytorch")
    ratio = f"{m / p:.2f}×" if m and p else "—"
    fmt = lambda v: f"{v:,.1f}" if v is not None and v < 100 else (f"{v:,.0f}" if v is not None else "—")
    print(f"| {arch} | {threads} | {fmt(m)} | {fmt(p)} | {ratio} |")
