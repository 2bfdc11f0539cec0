"""Polish trained privileged-basis models to convergence and compare their codes.

Train the models of one density and keep every restart, e.g. 48 at 1 - S = 0.04:

    pnpm tms run privileged --sparsities 0.96 --restarts 48 --shard 0/1 --out /tmp/pv48
    /usr/bin/python3 scripts/privileged-polish.py /tmp/pv48/.units/relu-hidden.safetensors 0.04

For the 8 lowest-loss models and every model with all 10 features on pairs of neurons,
this minimises the loss of h = ReLU(x W), x' = ReLU(h Wᵀ + b) (I = 0.75^i) with L-BFGS on
a fixed set of samples with at least one active feature (the all-zero input exactly), and
prints each model's loss and code before and after: features represented (‖W_i‖ > 0.5),
how many of them activate exactly 2 neurons (positive weights over 0.3 × the largest).
Needs PyTorch (Debian: apt-get install python3-torch, then /usr/bin/python3). Arguments: units file, density 1 - S, samples
(500,000), L-BFGS iterations (200).
"""
import json
import struct
import sys

import numpy as np
try:
    import torch
except ImportError:
    sys.exit(f'{sys.argv[0]} needs PyTorch: apt-get install python3-torch, then run it with /usr/bin/python3 (or pip install torch)')

torch.set_default_dtype(torch.float64)
path, p = sys.argv[1], float(sys.argv[2])
N = int(sys.argv[3]) if len(sys.argv) > 3 else 500_000
iterations = int(sys.argv[4]) if len(sys.argv) > 4 else 200
raw = open(path, 'rb').read()
header = json.loads(raw[8:8 + struct.unpack('<Q', raw[:8])[0]])
unit = json.loads(header['__metadata__']['value'])
W = np.array(unit['params']['W'], dtype=np.float64)
B = np.array(unit['params']['b'], dtype=np.float64)
models, n, m = W.shape
importance = torch.tensor(0.75 ** np.arange(n))
g = torch.Generator().manual_seed(7)
mask = torch.rand(N * int(2 / (1 - (1 - p) ** n) + 1), n, generator=g) < p
mask = mask[mask.any(1)][:N]
x = torch.rand(mask.shape, generator=g) * mask
p_any = 1 - (1 - p) ** n


def loss(Wt, bt):
    out = torch.relu(torch.relu(x @ Wt) @ Wt.T + bt)
    active = (((x - out) ** 2) * importance).sum(1).mean() / n
    zero = ((torch.relu(bt) ** 2) * importance).sum() / n
    return p_any * active + (1 - p_any) * zero


def code(Wn):
    represented = [i for i in range(n) if np.linalg.norm(Wn[i]) > 0.5]
    neurons = [int((Wn[i] > 0.3 * Wn[i].max()).sum()) for i in represented]
    return f'{len(represented)} represented, {sum(k == 2 for k in neurons)} on pairs {neurons}'


ranked = sorted(range(models), key=lambda k: loss(torch.tensor(W[k]), torch.tensor(B[k])).item())
pairs = [k for k in ranked if code(W[k]).startswith(f'{n} represented, {n} on pairs')]
print(f'{models} models at 1 - S = {p}; {N} samples with an active feature; L-BFGS {iterations} iterations')
for k in ranked[:8] + [k for k in pairs if k not in ranked[:8]]:
    Wt = torch.tensor(W[k]).requires_grad_(True)
    bt = torch.tensor(B[k]).requires_grad_(True)
    before = loss(Wt, bt).item()
    opt = torch.optim.LBFGS([Wt, bt], max_iter=iterations, tolerance_grad=1e-12, tolerance_change=1e-16, history_size=50, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        value = loss(Wt, bt)
        value.backward()
        return value

    opt.step(closure)
    print(f'model {k:3d}  trained {before:.4e} ({code(W[k])})  ->  polished {loss(Wt, bt).item():.4e} ({code(Wt.detach().numpy())})', flush=True)
