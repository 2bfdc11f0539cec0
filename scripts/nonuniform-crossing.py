"""Where the pentagon's and the two digons' loss curves cross, for the loss optimum itself.

The nonuniform experiment's part 1 (n = 5 features in m = 2, ReLU output, importance 1,
values uniform on [0, 1]; features 1-4 present with probability p, feature 0 with
factor * p) measures where its trained models' two geometries cross. This script finds
the best model of each geometry directly: the expected loss summed over the 32 presence
patterns, each pattern's integral by scrambled Sobol points (2^15), minimised by L-BFGS
from a regular pentagon and from two orthogonal digons (feature 0 at zero).

    python3 scripts/nonuniform-crossing.py [p] [factor,factor,...]

Needs PyTorch (Debian: python3-torch). p = 0.05 (the experiment's default S = 0.95): the
curves cross at factor 0.264; p = 0.1: at 0.40, the paper's "about 2.5x sparser".
"""
import itertools
import math
import sys

import torch

torch.set_default_dtype(torch.float64)
n = 5
p_base = float(sys.argv[1]) if len(sys.argv) > 1 else 0.05
factors = [float(v) for v in sys.argv[2].split(',')] if len(sys.argv) > 2 else [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]
patterns = list(itertools.product([0, 1], repeat=n))
points = torch.quasirandom.SobolEngine(n, scramble=True, seed=1).draw(1 << 15).double()
inputs = [points * torch.tensor(a, dtype=torch.float64) for a in patterns]


def loss(W, b, p):
    """Expected importance-weighted MSE per feature (the experiments' loss) of x' = ReLU(WWᵀx + b)."""
    G = W @ W.T
    total = 0.0
    for a, x in zip(patterns, inputs):
        weight = math.prod(p[i] if a[i] else 1 - p[i] for i in range(n))
        total = total + weight * ((x - torch.relu(x @ G + b)) ** 2).mean(0).sum() / n
    return total


def fit(W0, p):
    W = W0.clone().requires_grad_(True)
    b = torch.full((n,), -0.05, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], max_iter=600, tolerance_grad=1e-12, tolerance_change=1e-15, history_size=50, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        value = loss(W, b, p)
        value.backward()
        return value

    opt.step(closure)
    return loss(W, b, p).item(), W.detach().norm(dim=1)[0].item()


def direction(t):
    return torch.tensor([math.cos(t), math.sin(t)])


pentagon = torch.stack([direction(2 * math.pi * k / 5) for k in range(5)])
digons = torch.stack([torch.zeros(2), direction(0), direction(math.pi), direction(math.pi / 2), direction(3 * math.pi / 2)])
previous = None
print(f'features 1-4 present with p = {p_base}; feature 0 with factor * p')
for f in factors:
    p = [p_base * f] + [p_base] * 4
    lp, norm0 = fit(pentagon, p)
    ld, _ = fit(digons, p)
    note = '' if norm0 > 0.5 else '  (the pentagon fit dropped feature 0: digons here)'
    print(f'factor {f:.3f}  pentagon {lp:.6e}  digons {ld:.6e}  digons - pentagon {ld - lp:+.3e}{note}', flush=True)
    if norm0 > 0.5:
        if previous and previous[1] < 0 <= ld - lp:
            f0, d0 = previous
            print(f'the curves cross at factor {f0 + (f - f0) * -d0 / ((ld - lp) - d0):.3f}')
        previous = (f, ld - lp)
