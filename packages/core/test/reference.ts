/** Float64 reference implementations of the toy models, for gradient checks. */
export type Params = Record<string, Float64Array>;

function relu(v: number) {
  return v > 0 ? v : 0;
}

/** Per-instance loss in float64, mirroring core's lossPerInstance. */
export function referenceLoss(
  kind: string,
  p: Params,
  x: Float64Array,
  importance: Float64Array,
  I: number,
  B: number,
  n: number,
  m: number,
): number[] {
  const losses: number[] = [];
  for (let k = 0; k < I; k++) {
    let sum = 0;
    for (let s = 0; s < B; s++) {
      const xs = x.subarray((k * B + s) * n, (k * B + s + 1) * n);
      const h = new Float64Array(m);
      const W = kind === 'abs' ? p.W1 : p.W;
      for (let j = 0; j < m; j++) {
        let v = 0;
        for (let i = 0; i < n; i++) v += xs[i] * W[(k * n + i) * m + j];
        h[j] = kind === 'relu-hidden' || kind === 'abs' ? relu(v) : v;
      }
      for (let i = 0; i < n; i++) {
        let pre = p.b[k * n + i];
        for (let j = 0; j < m; j++) {
          pre += kind === 'abs' ? h[j] * p.W2[(k * m + j) * n + i] : h[j] * p.W[(k * n + i) * m + j];
        }
        const out = kind === 'linear' ? pre : relu(pre);
        const target = kind === 'abs' ? Math.abs(xs[i]) : xs[i];
        sum += importance[k * n + i] * (target - out) ** 2;
      }
    }
    losses.push(sum / (B * n));
  }
  return losses;
}
