"""PyTorch twin of metriclab's benchmarks: the same models, loss and step.

Trains LeNet++ and InsightFace's IResNet-18 with an ArcFace head (the
models of core/arch.go and core/arch_iresnet.go, the loss of
losses/arcface.go) on random images, SGD with momentum 0.9 and weight
decay 5e-4, as `metriclab bench` does, and prints one JSON object per
measurement:

    {"impl": "torch", "model": "lenetpp", "batch": 256, "dim": 3,
     "classes": 10, "side": 28, "mode": "host", "tf32": "conv",
     "img_per_s": ..., "ms_per_step": ..., "steps": ..., "device": ...}

mode "host" copies the batch from (pageable) host memory at every step
and reads the loss back, as metriclab's Step does; "resident" keeps the
batch on the device (the usual synthetic benchmark). tf32 "conv" is
PyTorch's default (cuDNN convolutions on TF32 tensor cores, matmuls in
FP32), "off" is strict FP32.

    python3 torch_twin.py --model lenetpp --batch 256 --dim 3 --classes 10 --side 28 --seconds 10

Runs on the CPU too (device "cpu"), for the script's plumbing.
"""

import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def scale_for(dim):
    """msDefaultScale of losses/margin.go: 16·√(D/8) clamped to [16, 64]."""
    return min(64.0, max(16.0, 16 * math.sqrt(dim / 8)))


class ArcFace(nn.Module):
    """losses/arcface.go: s·cos(θ_y + m) for the target, s·cos θ_j for the
    others, with the fallback cos θ_y − m·sin m past θ_y = π − m."""

    def __init__(self, dim, classes, s, m=0.5):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(classes, dim))
        nn.init.kaiming_normal_(self.weight)
        self.s, self.m = s, m
        self.th = math.cos(math.pi - m)

    def forward(self, f, y):
        cos = F.linear(F.normalize(f, eps=1e-6), F.normalize(self.weight, eps=1e-6))
        c = cos.gather(1, y[:, None]).clamp(-1, 1)
        sin = (1 - c * c).clamp_min(0).sqrt()
        psi = torch.where(c > self.th, c * math.cos(self.m) - sin * math.sin(self.m), c - self.m * math.sin(self.m))
        logits = cos.scatter(1, y[:, None], psi) * self.s
        return F.cross_entropy(logits, y)


class LeNetPP(nn.Module):
    """LeNet++ (Wen et al. 2016), core/arch.go's lenetpp."""

    def __init__(self, channels, side, dim):
        super().__init__()
        layers, ci = [], channels
        for co in (32, 64, 128):
            for _ in range(2):
                layers += [nn.Conv2d(ci, co, 5, padding=2), nn.PReLU(co)]
                ci = co
            layers.append(nn.MaxPool2d(2))
            side //= 2
        self.body = nn.Sequential(*layers)
        self.fc = nn.Linear(128 * side * side, dim)

    def forward(self, x):
        return self.fc(torch.flatten(self.body(x), 1))


class IBasicBlock(nn.Module):
    """InsightFace's IBasicBlock (core/arch_iresnet.go)."""

    def __init__(self, inplanes, planes, stride):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(inplanes, eps=1e-5)
        self.conv1 = nn.Conv2d(inplanes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes, eps=1e-5)
        self.prelu = nn.PReLU(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes, eps=1e-5)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False),
                                            nn.BatchNorm2d(planes, eps=1e-5))

    def forward(self, x):
        out = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return out + (self.downsample(x) if self.downsample is not None else x)


class IResNet18(nn.Module):
    """InsightFace's iresnet18 (arcface_torch/backbones/iresnet.py)."""

    def __init__(self, channels, side, dim):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64, eps=1e-5)
        self.prelu = nn.PReLU(64)
        blocks, inplanes = [], 64
        for planes in (64, 128, 256, 512):
            for j in range(2):
                blocks.append(IBasicBlock(inplanes, planes, 2 if j == 0 else 1))
                inplanes = planes
            side = (side + 1) // 2
        self.layers = nn.Sequential(*blocks)
        self.bn2 = nn.BatchNorm2d(512, eps=1e-5)
        self.fc = nn.Linear(512 * side * side, dim)
        self.features = nn.BatchNorm1d(dim, eps=1e-5)
        nn.init.constant_(self.features.weight, 1.0)
        self.features.weight.requires_grad = False

    def forward(self, x):
        x = self.layers(self.prelu(self.bn1(self.conv1(x))))
        return self.features(self.fc(torch.flatten(self.bn2(x), 1)))


def bench(args):
    dev = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    torch.backends.cudnn.benchmark = True
    channels = 3 if args.model == "iresnet18" else 1
    models = {"lenetpp": LeNetPP, "iresnet18": IResNet18}
    torch.manual_seed(1)
    for tf32 in args.tf32.split(","):
        torch.backends.cudnn.allow_tf32 = tf32 == "conv"
        torch.backends.cuda.matmul.allow_tf32 = False
        for mode in args.modes.split(","):
            model = models[args.model](channels, args.side, args.dim).to(dev)
            head = ArcFace(args.dim, args.classes, scale_for(args.dim)).to(dev)
            params = [p for p in list(model.parameters()) + list(head.parameters()) if p.requires_grad]
            opt = torch.optim.SGD(params, lr=0.01, momentum=0.9, weight_decay=5e-4)
            x_host = torch.rand(args.batch, channels, args.side, args.side)
            y_host = torch.arange(args.batch) % args.classes
            x_dev, y_dev = x_host.to(dev), y_host.to(dev)

            def step():
                x, y = (x_dev, y_dev) if mode == "resident" else (x_host.to(dev), y_host.to(dev))
                loss = head(model(x), y)
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                return loss.item()  # the loss comes back every step, as in metriclab

            for _ in range(args.warmup):
                step()
            if dev.type == "cuda":
                torch.cuda.synchronize()
            start, steps = time.perf_counter(), 0
            while time.perf_counter() - start < args.seconds:
                step()
                steps += 1
            el = time.perf_counter() - start
            print(json.dumps({"impl": "torch", "model": args.model, "batch": args.batch, "dim": args.dim,
                              "classes": args.classes, "side": args.side, "mode": mode, "tf32": tf32,
                              "img_per_s": steps * args.batch / el, "ms_per_step": 1000 * el / steps,
                              "steps": steps, "device": torch.cuda.get_device_name() if dev.type == "cuda" else "cpu",
                              "torch": torch.__version__}), flush=True)


def main():
    b = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    b.add_argument("--model", choices=["lenetpp", "iresnet18"], required=True)
    b.add_argument("--batch", type=int, default=256)
    b.add_argument("--dim", type=int, default=3)
    b.add_argument("--classes", type=int, default=10)
    b.add_argument("--side", type=int, default=28)
    b.add_argument("--seconds", type=float, default=10)
    b.add_argument("--warmup", type=int, default=10)
    b.add_argument("--modes", default="host,resident")
    b.add_argument("--tf32", default="off,conv")
    bench(b.parse_args())


if __name__ == "__main__":
    sys.exit(main())
