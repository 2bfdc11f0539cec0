"""The loss optimum of the nonuniform experiment's m = 2 models, found directly.

The expected loss of x' = ReLU(WᵀW x + b) (importance 1, values uniform on [0, 1]) is
summed over the presence patterns, each pattern's integral taken on scrambled Sobol
points, and minimised by L-BFGS from several starting geometries. This checks where the
trained models' geometries change against where the optimum's do.

    /usr/bin/python3 scripts/nonuniform-optimum.py crossing [p] [factor,factor,...]
    /usr/bin/python3 scripts/nonuniform-optimum.py collapse [density,density,...]

crossing: part 1 (n = 5; features 1-4 present with probability p, feature 0 with
factor * p), optimised from a regular pentagon and from two orthogonal digons (feature 0
at zero); prints both losses and where the curves cross. p = 0.05 (the default S = 0.95):
0.264; p = 0.1: 0.401, the paper's "about 2.5x sparser".

collapse: part 4 (three correlated pairs, n = 6; each pair present with probability
1 - S), optimised from 0, 1, 2 and 3 collapsed pairs (both members along one direction);
prints each start's loss and how many pairs have cos > 0.9 at its end: 0 collapsed up to
0.05, 1 at 0.1, 2 from 0.15 to 0.35, 3 from 0.4 on.

Needs PyTorch (Debian: apt-get install python3-torch, then /usr/bin/python3).
"""
import itertools
import math
import sys

try:
    import torch
except ImportError:
    sys.exit(f'{sys.argv[0]} needs PyTorch: apt-get install python3-torch, then run it with /usr/bin/python3 (or pip install torch)')

torch.set_default_dtype(torch.float64)


def expected_loss(groups, n, points=1 << 15, seed=1):
    """Expected loss as a function of (W, b, probabilities of each group); `groups[i]` is feature i's group."""
    patterns = list(itertools.product([0, 1], repeat=max(groups) + 1))
    sobol = torch.quasirandom.SobolEngine(n, scramble=True, seed=seed).draw(points).double()
    inputs = [sobol * torch.tensor([a[g] for g in groups], dtype=torch.float64) for a in patterns]

    def loss(W, b, p):
        G = W @ W.T
        total = 0.0
        for a, x in zip(patterns, inputs):
            weight = math.prod(p[g] if on else 1 - p[g] for g, on in enumerate(a))
            total = total + weight * ((x - torch.relu(x @ G + b)) ** 2).mean(0).sum() / n
        return total

    return loss


def fit(loss, W0, p, iterations=800):
    """Minimise from W0 (biases from -0.05); returns the loss and the fitted W."""
    W = W0.clone().requires_grad_(True)
    b = torch.full((W0.shape[0],), -0.05, requires_grad=True)
    opt = torch.optim.LBFGS([W, b], max_iter=iterations, tolerance_grad=1e-12, tolerance_change=1e-16, history_size=50, line_search_fn='strong_wolfe')

    def closure():
        opt.zero_grad()
        value = loss(W, b, p)
        value.backward()
        return value

    opt.step(closure)
    return loss(W, b, p).item(), W.detach()


def direction(t, r=1.0):
    return torch.tensor([r * math.cos(t), r * math.sin(t)])


def crossing(p_base, factors):
    loss = expected_loss([0, 1, 2, 3, 4], 5)
    pentagon = torch.stack([direction(2 * math.pi * k / 5) for k in range(5)])
    digons = torch.stack([torch.zeros(2), direction(0), direction(math.pi), direction(math.pi / 2), direction(3 * math.pi / 2)])
    print(f'features 1-4 present with p = {p_base}; feature 0 with factor * p')
    previous = None
    for f in factors:
        p = [p_base * f] + [p_base] * 4
        lp, Wp = fit(loss, pentagon, p, 600)
        ld, _ = fit(loss, digons, p, 600)
        kept = Wp[0].norm().item() > 0.5
        note = '' if kept else '  (the pentagon fit dropped feature 0: digons here)'
        print(f'factor {f:.3f}  pentagon {lp:.6e}  digons {ld:.6e}  digons - pentagon {ld - lp:+.3e}{note}', flush=True)
        if kept:
            if previous and previous[1] < 0 <= ld - lp:
                f0, d0 = previous
                print(f'the curves cross at factor {f0 + (f - f0) * -d0 / ((ld - lp) - d0):.3f}')
            previous = (f, ld - lp)


def collapse(densities):
    loss = expected_loss([0, 0, 1, 1, 2, 2], 6, 1 << 14, 3)

    def start(k):
        rows = []
        for j in range(3):
            t = 2 * math.pi * j / 3
            rows += [direction(t, 0.75), direction(t + 0.02, 0.75)] if j < k else [direction(t - 0.35), direction(t + 0.35)]
        return torch.stack(rows)

    def collapsed(W):
        cos = lambda i, j: (W[i] @ W[j] / (W[i].norm() * W[j].norm() + 1e-12)).item()
        return sum(cos(2 * k, 2 * k + 1) > 0.9 for k in range(3))

    for d in densities:
        fits = [fit(loss, start(k), [d] * 3) for k in range(4)]
        best = min(range(4), key=lambda k: fits[k][0])
        print(f'1-S = {d}: ' + '  '.join(f'from {k}: {l:.5e} ({collapsed(W)} collapsed)' for k, (l, W) in enumerate(fits)) + f'  -> best: {collapsed(fits[best][1])} collapsed', flush=True)


if __name__ == '__main__':
    what = sys.argv[1] if len(sys.argv) > 1 else 'crossing'
    if what == 'crossing':
        p_base = float(sys.argv[2]) if len(sys.argv) > 2 else 0.05
        factors = [float(v) for v in sys.argv[3].split(',')] if len(sys.argv) > 3 else [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5]
        crossing(p_base, factors)
    elif what == 'collapse':
        collapse([float(v) for v in sys.argv[2].split(',')] if len(sys.argv) > 2 else [0.01, 0.03, 0.05, 0.1, 0.15, 0.2, 0.3, 0.35, 0.4, 0.5, 0.8])
    else:
        sys.exit('usage: nonuniform-optimum.py crossing [p] [factors] | collapse [densities]')
