#!/usr/bin/env python3
"""PyTorch reference for `pnpm bench`: the same models, data and Adam steps.

A server, so that `bench/run.mjs` can interleave rounds (ours, torch, ours,
torch, ...) with torch's state kept warm between them. It reads one JSON
command per line on stdin and answers one JSON line on stdout:

  {"cmd": "info"}
      -> {"torch": version, "threads": n, "blas": {libraries, kind, matmul_gflops}}
  {"cmd": "time", "config": {...one entry of configs.json...}, "batchSize": B,
   "variant": "autograd" | "manual-backward", "steps": S}
      -> {"ms_per_step": x}   (the first call per config and variant warms up first)

Abs configs train the absolute-value model h = ReLU(x W1), y' = ReLU(h W2 + b)
on signed inputs against |x| (the paper's computation model), likewise.
Toy configs train ReLU-output models x' = ReLU(W^T W x + b), Adam, importance-
weighted MSE, instance k with feature probability pMin^(k/(I-1)). The "sae"
config trains a sparse autoencoder on a toy model's hidden activations, as
@tms/analysis trainSparseAutoencoder does (decoder rows renormalised each step).
Run with Debian's interpreter: /usr/bin/python3 bench/torch_ref.py
"""
import json, os, sys, time

import torch

threads = int(os.environ.get("TMS_BENCH_THREADS", os.cpu_count() or 1))
torch.set_num_threads(threads)
torch.manual_seed(0)


def blas_info():
    """Which BLAS library torch really loaded, and its fp32 matmul speed (the machine's measured peak)."""
    a = torch.randn(1024, 1024)
    b = torch.randn(1024, 1024)
    a @ b
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
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
    return {"libraries": sorted(libs), "kind": kind, "matmul_gflops": 2 * 1024**3 / best / 1e9}


def make_toy(c, B):
    I, n, m = c["instances"], c["features"], c["hidden"]
    p = torch.tensor([c["pMin"] ** (k / max(1, I - 1)) for k in range(I)]).view(I, 1, 1)
    imp = (c["importanceBase"] ** torch.arange(n, dtype=torch.float32)).view(1, 1, n).expand(I, 1, n).contiguous()
    W = torch.empty(I, n, m)
    torch.nn.init.normal_(W, std=(2 / (n + m)) ** 0.5)
    b = torch.zeros(I, 1, n)
    return I, n, m, p, imp, W, b


def data(I, B, n, p):
    x = torch.rand(I, B, n)
    return x * (torch.rand(I, B, n) < p)


def adam_state(*params):
    return [(torch.zeros_like(q), torch.zeros_like(q)) for q in params]


def adam(param, g, state, t, lr=1e-3, b1=0.9, b2=0.999, eps=1e-8):
    mS, vS = state
    mS.mul_(b1).add_(g, alpha=1 - b1)
    vS.mul_(b2).addcmul_(g, g, value=1 - b2)
    param.addcdiv_(mS, (vS / (1 - b2**t)).sqrt_().add_(eps), value=-lr / (1 - b1**t))


def toy_autograd(c, B):
    I, n, m, p, imp, W, b = make_toy(c, B)
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

    return step


def toy_manual(c, B):
    I, n, m, p, imp, W, b = make_toy(c, B)
    state = adam_state(W, b)
    t = [0]
    scale = 2.0 / (B * n)

    def step():
        with torch.no_grad():
            t[0] += 1
            x = data(I, B, n, p)
            h = torch.bmm(x, W)  # [I,B,m]
            pre = torch.baddbmm(b, h, W.transpose(1, 2))  # [I,B,n]
            out = torch.relu(pre)
            g = (scale * imp) * (out - x) * (pre > 0)  # dL/dpre
            gb = g.sum(dim=1, keepdim=True)
            dh = torch.bmm(g, W)  # [I,B,m]
            gW = torch.bmm(g.transpose(1, 2), h) + torch.bmm(x.transpose(1, 2), dh)
            adam(W, gW, state[0], t[0])
            adam(b, gb, state[1], t[0])

    return step


def make_abs(c, B):
    I, n, m = c["instances"], c["features"], c["hidden"]
    p = torch.tensor([c["pMin"] ** (k / max(1, I - 1)) for k in range(I)]).view(I, 1, 1)
    imp = (c["importanceBase"] ** torch.arange(n, dtype=torch.float32)).view(1, 1, n).expand(I, 1, n).contiguous()
    W1 = torch.empty(I, n, m)
    W2 = torch.empty(I, m, n)
    torch.nn.init.normal_(W1, std=(2 / (n + m)) ** 0.5)
    torch.nn.init.normal_(W2, std=(2 / (n + m)) ** 0.5)
    return I, n, m, p, imp, W1, W2, torch.zeros(I, 1, n)


def signed_data(I, B, n, p):
    x = torch.rand(I, B, n) * 2 - 1
    return x * (torch.rand(I, B, n) < p)


def abs_autograd(c, B):
    I, n, m, p, imp, W1, W2, b = make_abs(c, B)
    for q in (W1, W2, b):
        q.requires_grad_(True)
    opt = torch.optim.Adam([W1, W2, b], lr=1e-3)

    def step():
        x = signed_data(I, B, n, p)
        out = torch.relu(torch.bmm(torch.relu(torch.bmm(x, W1)), W2) + b)
        loss = (imp * (x.abs() - out) ** 2).mean(dim=(1, 2)).sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return step


def abs_manual(c, B):
    I, n, m, p, imp, W1, W2, b = make_abs(c, B)
    state = adam_state(W1, W2, b)
    t = [0]
    scale = 2.0 / (B * n)

    def step():
        with torch.no_grad():
            t[0] += 1
            x = signed_data(I, B, n, p)
            h = torch.relu(torch.bmm(x, W1))  # [I,B,m]
            pre = torch.baddbmm(b, h, W2)  # [I,B,n]
            g = (scale * imp) * (torch.relu(pre) - x.abs()) * (pre > 0)
            gb = g.sum(dim=1, keepdim=True)
            gW2 = torch.bmm(h.transpose(1, 2), g)
            dh = torch.bmm(g, W2.transpose(1, 2)) * (h > 0)
            gW1 = torch.bmm(x.transpose(1, 2), dh)
            adam(W1, gW1, state[0], t[0])
            adam(W2, gW2, state[1], t[0])
            adam(b, gb, state[2], t[0])

    return step


def make_sae(c):
    n, m, d = c["features"], c["inputDim"], c["dictionarySize"]
    Wtoy = torch.randn(n, m) * (2 / (n + m)) ** 0.5
    D = torch.randn(d, m)
    D /= D.norm(dim=1, keepdim=True)
    E = D.clone()
    return n, m, d, Wtoy, E, torch.zeros(d), D, torch.zeros(m)


def sae_sample(B, n, Wtoy, c):
    x = torch.rand(B, n) * (torch.rand(B, n) < 1 - c["sparsity"])
    return x @ Wtoy


def sae_autograd(c, B):
    n, m, d, Wtoy, E, be, D, bd = make_sae(c)
    for q in (E, be, D, bd):
        q.requires_grad_(True)
    opt = torch.optim.Adam([E, be, D, bd], lr=c["lr"])

    def step():
        h = sae_sample(B, n, Wtoy, c)
        z = torch.relu((h - bd) @ E.T + be)
        rec = z @ D + bd
        loss = ((rec - h) ** 2).sum(dim=1).mean() + c["l1"] * z.sum(dim=1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            D.div_(D.norm(dim=1, keepdim=True).clamp_min(1e-12))

    return step


def sae_manual(c, B):
    n, m, d, Wtoy, E, be, D, bd = make_sae(c)
    state = adam_state(E, be, D, bd)
    t = [0]

    def step():
        with torch.no_grad():
            t[0] += 1
            h = sae_sample(B, n, Wtoy, c)
            u = h - bd
            pre = u @ E.T + be
            z = torch.relu(pre)
            e = (z @ D + bd - h) * (2 / B)  # d(mean ||e||^2)/d rec
            gD = z.T @ e
            df = (e @ D.T + c["l1"] / B) * (pre > 0)
            gE = df.T @ u
            gbe = df.sum(dim=0)
            gbd = e.sum(dim=0) - df.sum(dim=0) @ E
            for q, g, s in ((E, gE, state[0]), (be, gbe, state[1]), (D, gD, state[2]), (bd, gbd, state[3])):
                adam(q, g, s, t[0], lr=c["lr"])
            D.div_(D.norm(dim=1, keepdim=True).clamp_min(1e-12))

    return step


MAKERS = {
    ("toy", "autograd"): toy_autograd,
    ("toy", "manual-backward"): toy_manual,
    ("abs", "autograd"): abs_autograd,
    ("abs", "manual-backward"): abs_manual,
    ("sae", "autograd"): sae_autograd,
    ("sae", "manual-backward"): sae_manual,
}
steppers = {}


def time_steps(c, B, variant, steps):
    key = (c["name"], variant)
    if key not in steppers:
        steppers[key] = MAKERS[(c.get("kind", "toy"), variant)](c, B)
        for _ in range(c.get("warmup", 5)):
            steppers[key]()
    step = steppers[key]
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return 1000 * (time.perf_counter() - t0) / steps


for line in sys.stdin:
    if not line.strip():
        continue
    msg = json.loads(line)
    if msg["cmd"] == "info":
        out = {"torch": torch.__version__, "threads": threads, "blas": blas_info()}
    elif msg["cmd"] == "time":
        out = {"ms_per_step": time_steps(msg["config"], msg["batchSize"], msg["variant"], msg["steps"])}
    else:
        out = {"error": f"unknown command {msg['cmd']}"}
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
