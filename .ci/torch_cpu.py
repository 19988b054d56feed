# PyTorch CPU peer of metriclab's native bench (make bench): the same encoders with an ArcFace head (s=16, m=0.5),
# Adam, random images, steady-state training steps. One JSON line per model:
#   {"peer":"pytorch-VERSION","arch","threads","batch","img_per_s","img_per_cpu_s"}
# img_per_cpu_s divides by the process's CPU time (time.process_time, all threads): on a machine shared with other
# work it holds where img_per_s drops. This is ../shared/peers/torch_cpu.py with that figure added.
# Needs Debian's PyTorch: apt-get install -y python3-torch, then /usr/bin/python3 torch_cpu.py THREADS [ARCH...]
# ARCH: lenet-s lenetpp iresnet18 (default: lenet-s lenetpp).
import json, math, sys, time
import torch, torch.nn as nn, torch.nn.functional as F


def lenet_s(d):
    return nn.Sequential(nn.Conv2d(1, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Flatten(), nn.Linear(256, 64), nn.ReLU(), nn.Linear(64, d))


def lenetpp(d):
    layers, ci = [], 1
    for co in (32, 64, 128):
        layers += [nn.Conv2d(ci, co, 5, padding=2), nn.PReLU(co), nn.Conv2d(co, co, 5, padding=2), nn.PReLU(co), nn.MaxPool2d(2)]
        ci = co
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(128 * 3 * 3, d))


class IBasicBlock(nn.Module):  # InsightFace's IResNet block
    def __init__(self, ci, co, stride):
        super().__init__()
        self.bn1, self.conv1 = nn.BatchNorm2d(ci), nn.Conv2d(ci, co, 3, 1, 1, bias=False)
        self.bn2, self.prelu = nn.BatchNorm2d(co), nn.PReLU(co)
        self.conv2, self.bn3 = nn.Conv2d(co, co, 3, stride, 1, bias=False), nn.BatchNorm2d(co)
        self.down = None
        if stride != 1 or ci != co:
            self.down = nn.Sequential(nn.Conv2d(ci, co, 1, stride, bias=False), nn.BatchNorm2d(co))

    def forward(self, x):
        y = self.bn3(self.conv2(self.prelu(self.bn2(self.conv1(self.bn1(x))))))
        return y + (x if self.down is None else self.down(x))


def iresnet18(d):
    layers, ci = [nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64)], 64
    for co in (64, 128, 256, 512):
        layers += [IBasicBlock(ci, co, 2), IBasicBlock(co, co, 1)]
        ci = co
    return nn.Sequential(*layers, nn.BatchNorm2d(512), nn.Flatten(), nn.Linear(512 * 7 * 7, d), nn.BatchNorm1d(d))


class ArcFace(nn.Module):
    def __init__(self, d, c, s=16.0, m=0.5):
        super().__init__()
        self.w, self.s, self.m = nn.Parameter(torch.randn(c, d)), s, m

    def forward(self, f, y):
        cos = F.linear(F.normalize(f), F.normalize(self.w)).clamp(-1, 1)
        c = cos.gather(1, y[:, None])
        th = torch.acos(c)
        t = torch.where(th + self.m <= math.pi, torch.cos(th + self.m), c - self.m * math.sin(self.m))
        return F.cross_entropy(cos.scatter(1, y[:, None], t) * self.s, y)


MODELS = {  # arch: (constructor, input shape, dim, classes, batch, seconds)
    "lenet-s": (lenet_s, (1, 28, 28), 3, 10, 64, 4),
    "lenetpp": (lenetpp, (1, 28, 28), 3, 10, 64, 8),
    "iresnet18": (iresnet18, (3, 112, 112), 512, 1000, 32, 20),
}

threads = int(sys.argv[1])
torch.set_num_threads(threads)
for arch in sys.argv[2:] or ["lenet-s", "lenetpp"]:
    make, shape, dim, classes, batch, secs = MODELS[arch]
    torch.manual_seed(0)
    net, head = make(dim), ArcFace(dim, classes)
    opt = torch.optim.Adam(list(net.parameters()) + list(head.parameters()), lr=0.01)
    x, y = torch.rand(batch, *shape), torch.arange(batch) % classes

    def step():
        loss = head(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    n, t0, c0 = 0, time.time(), time.process_time()
    while time.time() - t0 < secs or n < 3:
        step()
        n += 1
    print(json.dumps({"peer": "pytorch-" + torch.__version__, "arch": arch, "threads": threads, "batch": batch,
                      "img_per_s": round(n * batch / (time.time() - t0), 1), "img_per_cpu_s": round(n * batch / (time.process_time() - c0), 1)}), flush=True)
