# PyTorch's convolutions beside core/conv's BenchmarkPlan: LeNet++'s three 5×5 convolutions with padding 2 (Ci = Co
# = 32, 64, 128 on 28×28, 14×14, 7×7, batch 64), forward and both backward products, one thread, and each again
# without padding on an input 4 pixels larger, so that the output is the same size and every tap reads a real pixel.
# GFLOP/s counts 6 flops per multiply-add of the plain product (K·K taps per output pixel), as BenchmarkPlan does:
# above the core's peak, a library skips the taps that read the zero border.
# Needs Debian's PyTorch: apt-get install -y python3-torch, then /usr/bin/python3 .ci/torch_conv.py
import time
import torch, torch.nn as nn

torch.set_num_threads(1)
for name, c, h in (("lenetpp-conv1b", 32, 28), ("lenetpp-conv2b", 64, 14), ("lenetpp-conv3b", 128, 7)):
    for pad in (2, 0):
        size = h if pad else h + 4
        conv = nn.Conv2d(c, c, 5, padding=pad)
        x = torch.rand(64, c, size, size, requires_grad=True)
        def step():
            y = conv(x)
            y.backward(torch.ones_like(y))
        for _ in range(3):
            step()
        n, t = 10, time.perf_counter()
        for _ in range(n):
            step()
        dt = (time.perf_counter() - t) / n
        print("%s pad %d: %.1f ms, %.1f GFLOP/s" % (name, pad, dt * 1e3, 6 * 64 * h * h * c * c * 25 / dt / 1e9))
