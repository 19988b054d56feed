#!/usr/bin/env python3
"""Reads the JSON lines of `make bench` on stdin (metriclab bench --json and
the PyTorch peer .ci/torch_cpu.py) and prints the README's table: for each
model and thread count, the img/s of both by wall time and by the process's
CPU time, and their ratios. Lines that are not JSON objects with img_per_s
are passed over."""
import json
import sys

runs = {}  # (arch, threads) -> {"metriclab": line, "pytorch": line}
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
    runs[key][who] = r


def num(v):
    if v is None:
        return "—"
    return f"{v:,.2f}" if v < 10 else (f"{v:,.1f}" if v < 100 else f"{v:,.0f}")


def ratio(a, b):
    return f"{a / b:.2f}×" if a and b else "—"


print("| model | threads | metriclab img/s | PyTorch img/s | ratio | metriclab img/CPU-s | PyTorch img/CPU-s | ratio |")
print("|---|---|---|---|---|---|---|---|")
for arch, threads in order:
    m, p = runs[(arch, threads)].get("metriclab", {}), runs[(arch, threads)].get("pytorch", {})
    mw, pw = m.get("img_per_s"), p.get("img_per_s")
    mc, pc = m.get("img_per_cpu_s"), p.get("img_per_cpu_s")
    print(f"| {arch} | {threads} | {num(mw)} | {num(pw)} | {ratio(mw, pw)} | {num(mc)} | {num(pc)} | {ratio(mc, pc)} |")
