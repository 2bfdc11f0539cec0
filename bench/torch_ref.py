#!/usr/bin/env python3
"""PyTorch reference for `pnpm bench`: the same toy models, data and Adam steps.

Runs each config twice: with autograd, and with a hand-written backward (the
faster of the two is the reference). Prints one JSON object on stdout:
{"torch": version, "threads": n, "blas": {...}, "results": [{name, variant, ms_per_step}]}.
Run with Debian's interpreter: /usr/bin/python3 bench/torch_ref.py bench/configs.json
"""
import json, os, sys, time

import torch

cfg = json.load(open(sys.argv[1]))
threads = int(os.environ.get("TMS_BENCH_THREADS", os.cpu_count() or 1))
torch.set_num_threads(threads)
torch.manual_seed(0)


def blas_info():
    """Which BLAS library torch really loaded, and its fp32 matmul speed."""
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    a @ b
    t = time.perf_counter()
    reps = 5
    for _ in range(reps):
        a @ b
    dt = (time.perf_counter() - t) / reps
    libs = set()
    try:
        for line in open("/proc/self/maps"):
            path = line.split()[-1]
            base = os.path.basename(path)
            if "blas" in base or "lapack" in base or "mkl" in base:
                libs.add(os.path.realpath(path))
    except OSError:
        pass
    names = " ".join(sorted(libs))
    kind = "openblas" if "openblas" in names else ("mkl" if "mkl" in names else ("reference" if "libblas" in names else "unknown"))
    return {"libraries": sorted(libs), "kind": kind, "matmul_gflops": 2 * 1024**3 / dt / 1e9}


def make(c):
    I, n, m, B = c["instances"], c["features"], c["hidden"], cfg["batchSize"]
    p = torch.tensor([20 ** (-k / max(1, I - 1)) for k in range(I)]).view(I, 1, 1)
    imp = (cfg["importanceBase"] ** torch.arange(n, dtype=torch.float32)).view(1, 1, n).expand(I, 1, n).contiguous()
    W = torch.empty(I, n, m)
    torch.nn.init.normal_(W, std=(2 / (n + m)) ** 0.5)
    b = torch.zeros(I, 1, n)
    return I, n, m, B, p, imp, W, b


def data(I, B, n, p):
    x = torch.rand(I, B, n)
    return x * (torch.rand(I, B, n) < p)


def bench_autograd(c):
    I, n, m, B, p, imp, W, b = make(c)
    W.requires_grad_(True)
    b.requires_grad_(True)
    opt = torch.optim.Adam([W, b], lr=1e-3)

    def step():
        x = data(I, B, n, p)
        h = torch.bmm(x, W)
        out = torch.relu(torch.bmm(h, W.transpose(1, 2)) + b)
        loss = (imp * (x - out) ** 2).mean(dim=(1, 2)).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss

    return timed(c, step)


def bench_manual(c):
    I, n, m, B, p, imp, W, b = make(c)
    opt_state = [torch.zeros_like(W), torch.zeros_like(W), torch.zeros_like(b), torch.zeros_like(b)]
    t = [0]
    scale = 2.0 / (B * n)

    def adam(param, g, mS, vS, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
        mS.mul_(b1).add_(g, alpha=1 - b1)
        vS.mul_(b2).addcmul_(g, g, value=1 - b2)
        bc1 = 1 - b1 ** t[0]
        bc2 = 1 - b2 ** t[0]
        param.addcdiv_(mS, (vS / bc2).sqrt_().add_(eps), value=-lr / bc1)

    def step():
        t[0] += 1
        x = data(I, B, n, p)
        h = torch.bmm(x, W)  # [I,B,m]
        pre = torch.baddbmm(b, h, W.transpose(1, 2))  # [I,B,n]
        out = torch.relu(pre)
        d = out - x
        g = (scale * imp) * d * (pre > 0)  # dL/dpre
        gb = g.sum(dim=1, keepdim=True)
        dh = torch.bmm(g, W)  # [I,B,m]
        gW = torch.bmm(g.transpose(1, 2), h) + torch.bmm(x.transpose(1, 2), dh)
        adam(W, gW, opt_state[0], opt_state[1])
        adam(b, gb, opt_state[2], opt_state[3])

    with torch.no_grad():
        return timed(c, step)


def timed(c, step):
    for _ in range(c["warmup"]):
        step()
    t0 = time.perf_counter()
    for _ in range(c["steps"]):
        step()
    return 1000 * (time.perf_counter() - t0) / c["steps"]


results = []
for c in cfg["configs"]:
    for variant, fn in (("autograd", bench_autograd), ("manual-backward", bench_manual)):
        results.append({"name": c["name"], "variant": variant, "ms_per_step": fn(c)})
print(json.dumps({"torch": torch.__version__, "threads": threads, "blas": blas_info(), "results": results}))
