"""The summary of the GPU check (.ci/gpu/run.sh): the tests' verdict, and
metriclab's img/s beside the PyTorch twin's with the ratio and the goal.

    python3 summary.py --backend device ours.jsonl torch.jsonl tests.log
"""

import argparse
import json


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("ours")
    p.add_argument("torch")
    p.add_argument("tests", nargs="?")
    p.add_argument("--backend", default="the GPU")
    args = p.parse_args()
    ours = [json.loads(l) for l in open(args.ours) if l.startswith("{")]
    theirs = [json.loads(l) for l in open(args.torch) if l.startswith("{")]
    tests = open(args.tests).read() if args.tests else ""
    passed, failed = tests.count("--- PASS"), tests.count("--- FAIL")
    skipped = tests.count("--- SKIP")
    verdict = "PASS" if "\nPASS" in tests or tests.rstrip().endswith("PASS") else "FAIL"
    print(f"parity and kernel tests on {args.backend}: {verdict} ({passed} passed, {failed} failed, {skipped} skipped)")
    for line in tests.splitlines():
        if line.lstrip().startswith("--- FAIL"):
            print("   ", line.strip())
    goals = {"lenetpp": 1.0, "iresnet18": 0.8}
    print("fp32: TF32 off on both sides; tf32: metriclab's GEMMs on TF32 tensor cores beside PyTorch's default")
    print("(cuDNN convolutions on TF32); host: the batch copied from host memory at every step; resident: on the device")
    print(f"{'model':<52} {'metriclab img/s':>16} {'torch img/s':>12} {'ratio':>6} {'goal':>5}")
    for o in ours:
        arch = o["arch"]
        match = [t for t in theirs if t["model"] == arch and t["batch"] == o["batch"] and t["dim"] == o["dim"]
                 and t["mode"] == ("resident" if o.get("resident") else "host")
                 and t["tf32"] == ("conv" if o.get("tf32") else "off")]
        what = (f"{arch} {o['loss']} D={o['dim']} b{o['batch']} {'tf32' if o.get('tf32') else 'fp32'}"
                f" {'resident' if o.get('resident') else 'host'} ({o['device']})")
        if not match:
            print(f"{what:<52} {o['img_per_s']:>16.0f} {'-':>12}")
            continue
        t = match[0]
        ratio = o["img_per_s"] / t["img_per_s"]
        print(f"{what:<52} {o['img_per_s']:>16.0f} {t['img_per_s']:>12.0f} {ratio:>6.2f} {goals.get(arch, 0):>5.1f}")




if __name__ == "__main__":
    main()
