/**
 * WGSL sources of the WebGPU engine. Each plan compiles its own module, with
 * the sizes baked in as constants (so loops have fixed trip counts and the
 * hidden vector lives in registers).
 */

/** Philox4x32-10 in WGSL: the same numbers as `philox4x32` of `@tms/data`, bit for bit. */
export const PHILOX_WGSL = /* wgsl */ `
fn mulhi(a: u32, b: u32) -> u32 {
  let al = a & 0xffffu; let ah = a >> 16u; let bl = b & 0xffffu; let bh = b >> 16u;
  let ll = al * bl; let lh = al * bh; let hl = ah * bl;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return ah * bh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}
fn philox(k: vec2<u32>, c0: vec4<u32>) -> vec4<u32> {
  var c = c0;
  var key = k;
  for (var r = 0u; r < 10u; r++) {
    if (r > 0u) { key += vec2<u32>(0x9e3779b9u, 0xbb67ae85u); }
    let hi0 = mulhi(0xd2511f53u, c.x); let lo0 = 0xd2511f53u * c.x;
    let hi1 = mulhi(0xcd9e8d57u, c.z); let lo1 = 0xcd9e8d57u * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ key.x, lo1, hi0 ^ c.w ^ key.y, lo0);
  }
  return c;
}
fn unit(r: u32) -> f32 { return f32(r >> 8u) * 5.9604644775390625e-8; }
`;

/**
 * WGSL drawing features 4q … 4q + 3 of one sample, as \`philoxFeatures\` of
 * \`@tms/data\` does: the presence words of counter (s, draw, q, 0), and the value
 * words of counter (s, draw, q, 1) only when one of the four is present.
 */
function drawQuad(signed: boolean): string {
  return `
fn prob(i: u32, f: u32) -> f32 { return select(0.0, bitcast<f32>(C[PROB + i * N + min(f, N - 1u)]), f < N); }
fn drawQuad(i: u32, s: u32, q: u32) -> vec4<f32> {
  let key = vec2<u32>(C[KEYS + 2u * i], C[KEYS + 2u * i + 1u]);
  let r = philox(key, vec4<u32>(s, step.draw, q, 0u));
  let f = 4u * q;
  let present = vec4<f32>(unit(r.x), unit(r.y), unit(r.z), unit(r.w)) < vec4<f32>(prob(i, f), prob(i, f + 1u), prob(i, f + 2u), prob(i, f + 3u));
  if (!any(present)) { return vec4<f32>(0.0); }
  let v = philox(key, vec4<u32>(s, step.draw, q, 1u));
  let u = vec4<f32>(unit(v.x), unit(v.y), unit(v.z), unit(v.w));
  return select(vec4<f32>(0.0), ${signed ? '2.0 * u - 1.0' : 'u'}, present);
}
/** Write the first min(4, left) values of x from X[at]. */
fn storeQuad(at: u32, left: u32, x: vec4<f32>) {
  X[at] = x.x;
  if (left > 1u) { X[at + 1u] = x.y; }
  if (left > 2u) { X[at + 2u] = x.z; }
  if (left > 3u) { X[at + 3u] = x.w; }
}
`;
}

/** What the training module is compiled for. */
export interface KernelShape {
  /** Models trained together. */
  instances: number;
  /** Features n. */
  features: number;
  /** Hidden dimensions m. */
  hidden: number;
  /** Samples per instance per step. */
  batch: number;
  /** Partial sums of the weight gradient over sample ranges (split-K). */
  splits: number;
  /**
   * `sample`: one invocation per sample computes its whole forward and backward
   * pass (few, long invocations: small models, software adapters); `split`:
   * one kernel per stage, one invocation per output (many short invocations:
   * large models on GPUs).
   */
  path: 'sample' | 'split';
  /** ReLU output (false: linear). */
  relu: boolean;
  /** `device`: batches generated on the GPU with Philox; `host`: written into X by the CPU. */
  data: 'device' | 'host';
  /** Device-drawn values on [−1, 1] instead of [0, 1]. */
  signed: boolean;
  /** Device-drawn samples rescaled to unit norm. */
  unitNorm: boolean;
  /** Adam's first-moment decay. */
  beta1: number;
  /** Adam's second-moment decay. */
  beta2: number;
  /** Adam's epsilon. */
  epsilon: number;
  /**
   * `tied` (default): x′ = act(WᵀW x + b), the parameters W `[I, N, M]` then b
   * `[I, N]`; `hidden`: a ReLU hidden layer, h = ReLU(x W₁) and
   * x′ = ReLU(h W₂ + b), the parameters W₁ `[I, N, M]`, W₂ `[I, M, N]` (when
   * `untied`) and b `[I, N]`, on the split path only.
   */
  layer?: 'tied' | 'hidden';
  /** With `layer: 'hidden'`: W₂ is a parameter of its own (false: W₂ = W₁ᵀ, the privileged-basis model). */
  untied?: boolean;
  /** With `layer: 'hidden'`: the output is trained to match |x| (false: x). */
  abs?: boolean;
}

/** Floats of the parameters, in the order the engine keeps them: W (or W₁, then W₂ when untied), then b. */
export function paramCount(s: Pick<KernelShape, 'instances' | 'features' | 'hidden' | 'layer' | 'untied'>): number {
  const { instances: I, features: N, hidden: M } = s;
  if (s.layer !== 'hidden') return I * N * (M + 1);
  return I * N * M * (s.untied ? 2 : 1) + I * N;
}

/** Threads per workgroup of every kernel. */
export const WORKGROUP = 64;

/** Offsets (in floats) of the regions of the scratch buffer `R`: partial gradients, loss terms (per sample, or per sample and feature on the split path), instance losses. */
export function scratchLayout(s: KernelShape): { params: number; partial: number; loss: number; lossTerms: number; lossOut: number; size: number } {
  const params = paramCount(s);
  const partial = 0;
  const loss = s.splits * params;
  const lossTerms = s.batch * (s.path === 'split' || s.layer === 'hidden' ? s.features : 1);
  const lossOut = loss + s.instances * lossTerms;
  return { params, partial, loss, lossTerms, lossOut, size: lossOut + s.instances };
}

/** Most workgroups in one dispatch dimension (WebGPU's default limit). */
const MAX_GROUPS = 65_535;

/** Workgroups `[x, y]` for `invocations` (2-D beyond 65,535 workgroups); invocation index = gid.x + gid.y · x · WORKGROUP. */
export function dispatchSize(invocations: number): [number, number] {
  const groups = Math.max(1, Math.ceil(invocations / WORKGROUP));
  return groups <= MAX_GROUPS ? [groups, 1] : [MAX_GROUPS, Math.ceil(groups / MAX_GROUPS)];
}

/** Invocations of each kernel of the split path. */
export function splitInvocations(s: KernelShape): { draw: number; normalize: number; hidden: number; output: number } {
  const { instances: I, features: N, hidden: M, batch: B } = s;
  return { draw: I * B * Math.ceil(N / 4), normalize: I * B, hidden: I * B * M, output: I * B * N };
}

const f32 = (x: number) => {
  const s = Math.fround(x).toExponential(9);
  return s.includes('e') ? s : s + '.0';
};

/**
 * A split-path kernel with one invocation per (sample, hidden unit) k:
 * Σ_f src[sample, f] · W[f, k] into HG[dst + sample · M + k] (h = Wᵀx from X,
 * g = Wᵀd from D), skipping zeros of src. `weight` is the WGSL index of W[f, k]
 * of instance `i` (default: W `[I, N, M]` at 0); `gate` wraps the sum (for
 * example the ReLU of a hidden layer), `live` is a WGSL condition under which
 * the sum is taken at all (0 otherwise).
 */
function projectKernel(
  name: string,
  src: 'X' | 'D',
  dst: string,
  stride: string,
  o: { weight?: string; gate?: (acc: string) => string; live?: string } = {},
): string {
  const weight = o.weight ?? 'i * N * M + f * M + k';
  const sum = `for (var f = 0u; f < N; f++) {
    let v = ${src}[row * N + f];
    if (v != 0.0) { acc += v * P[${weight}]; }
  }`;
  return `@compute @workgroup_size(${WORKGROUP})
fn ${name}(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x + gid.y * ${stride};
  if (t >= I * B * M) { return; }
  let k = t % M;
  let row = t / M;
  let i = row / B;
  var acc = 0.0;
  ${o.live ? `if (${o.live}) {
    ${sum}
  }` : sum}
  HG[${dst}t] = ${o.gate ? o.gate('acc') : 'acc'};
}
`;
}

/** Hidden sizes up to this are unrolled into scalar registers (the sample path's h and g, wgrad's accumulators). */
const UNROLL = 64;

/**
 * WGSL over the M hidden units, either unrolled into scalars (`h0`, `h1`, …: no
 * private arrays indexed at run time, which software adapters spill to memory)
 * or, beyond {@link UNROLL}, as arrays and loops. `declare` declares
 * zero-initialised vectors; `each(stmt)` repeats a statement per unit, in
 * which `el(name)` is the unit's element and `k` its index expression.
 */
function hiddenUnits(M: number) {
  const unrolled = M <= UNROLL;
  const ks = Array.from({ length: M }, (_, k) => k);
  type Unit = { el: (name: string) => string; k: string; n: number };
  const unit = (n: number): Unit => (unrolled ? { el: (name) => `${name}${n}`, k: `${n}u`, n } : { el: (name) => `${name}[k]`, k: 'k', n });
  return {
    unrolled,
    declare: (...names: string[]) => names.map((name) => (unrolled ? ks.map((n) => `var ${name}${n}: f32;`).join(' ') : `var ${name}: array<f32, ${M}>;`)).join('\n  '),
    each: (stmt: (u: Unit) => string, indent: string) =>
      unrolled ? ks.map((n) => indent + stmt(unit(n))).join('\n') : `${indent}for (var k = 0u; k < M; k++) { ${stmt(unit(0))} }`,
  };
}

/**
 * The sample path's h = Wᵀx, output gradient d and g = W d for one sample.
 * Unrolled, each row of W is loaded once for the pre-activation and g.
 */
function sampleBody(M: number): string {
  const H = hiddenUnits(M);
  const w = (u: { k: string; n: number }) => (H.unrolled ? `w${u.n}` : 'P[w + k]');
  return `  ${H.declare('h', 'g')}
  for (var f = 0u; f < N; f++) {
    let x = X[xo + f];
    if (x != 0.0) {
      let w = wo + f * M;
${H.each((u) => `${u.el('h')} += x * P[w + ${u.k}];`, '      ')}
    }
  }
  var loss = 0.0;
  for (var f = 0u; f < N; f++) {
    let w = wo + f * M;
${H.unrolled ? H.each((u) => `let w${u.n} = P[w + ${u.k}];`, '    ') : ''}
    var pre = P[bo + f];
${H.each((u) => `pre += ${w(u)} * ${u.el('h')};`, '    ')}
    let diff = act(pre) - X[xo + f];
    let imp = bitcast<f32>(C[i * N + f]);
    loss += imp * diff * diff;
    let d = outGrad(pre, diff, imp);
    D[xo + f] = d;
    if (d != 0.0) {
${H.each((u) => `${u.el('g')} += d * ${w(u)};`, '      ')}
    }
  }
${H.each((u) => `HG[t * M + ${u.k}] = ${u.el('h')}; HG[IBM + t * M + ${u.k}] = ${u.el('g')};`, '  ')}`;
}

/**
 * The accumulation loop of \`wgrad\` for row f of instance i over samples
 * s0 … s1 − 1, and its partial sums. Tied models: gW[f, k] += d_f h_k + x_f g_k.
 * With a ReLU hidden layer (\`hidden\`): gW₁[f, k] += x_f dh_k and
 * gW₂[k, f] += d_f h_k, stored apart when W₂ is its own (\`w2At(k)\`: the index
 * of W₂[k, f]) and summed when W₂ = W₁ᵀ. Always gb[f] += d_f.
 */
function wgradBody(M: number, hidden?: { untied: boolean; w2At: (k: string) => string }): string {
  const H = hiddenUnits(M);
  type Unit = Parameters<Parameters<typeof H.each>[0]>[0];
  const accumulate = hidden
    ? (u: Unit) => `${u.el('a')} += x * HG[IBM + h + ${u.k}]; ${u.el('c')} += d * HG[h + ${u.k}];`
    : (u: Unit) => `${u.el('a')} += d * HG[h + ${u.k}] + x * HG[IBM + h + ${u.k}];`;
  const store = !hidden
    ? (u: Unit) => `R[sp * PALL + t * M + ${u.k}] = ${u.el('a')};`
    : hidden.untied
      ? (u: Unit) => `R[sp * PALL + t * M + ${u.k}] = ${u.el('a')}; R[sp * PALL + ${hidden.w2At(u.k)}] = ${u.el('c')};`
      : (u: Unit) => `R[sp * PALL + t * M + ${u.k}] = ${u.el('a')} + ${u.el('c')};`;
  return `  ${hidden ? H.declare('a', 'c') : H.declare('a')}
  var gb = 0.0;
  for (var s = s0; s < s1; s++) {
    let row = i * B + s;
    let d = D[row * N + f];
    let x = X[row * N + f];
    if (d != 0.0 || x != 0.0) {
      gb += d;
      let h = row * M;
${H.each(accumulate, '      ')}
    }
  }
${H.each(store, '  ')}
  R[sp * PALL + ${hidden ? 'PB' : 'PW'} + t] = gb;`;
}

/** The constants, step record, output nonlinearity, batch draw and bindings every training module starts with. */
function moduleHeader(s: KernelShape, relu: boolean, params: string): string {
  const { instances: I, features: N, hidden: M, batch: B, splits: S } = s;
  const L = scratchLayout(s);
  return `
${PHILOX_WGSL}
const I = ${I}u; const N = ${N}u; const M = ${M}u; const B = ${B}u; const S = ${S}u; const CHUNK = ${Math.ceil(B / S)}u;
const PW = ${I * N * M}u; const PALL = ${L.params}u; const IBM = ${I * B * M}u;
const LOSS = ${L.loss}u; const LOSS_OUT = ${L.lossOut}u; const PROB = ${I * N}u; const KEYS = ${2 * I * N}u;
const SCALE = ${f32(1 / (B * N))};
const BETA1 = ${f32(s.beta1)}; const BETA2 = ${f32(s.beta2)}; const EPS = ${f32(s.epsilon)};

const LOSS_TERMS = ${L.lossTerms}u;

struct Step { stepSize: f32, bc2: f32, decay: f32, l2: f32, draw: u32, withLoss: u32 }

/** The output nonlinearity. */
fn act(pre: f32) -> f32 { return ${relu ? 'max(pre, 0.0)' : 'pre'}; }
/** ∂L/∂pre of one output: 2 · importance · (x′ − target) / (B · N), through the nonlinearity. */
fn outGrad(pre: f32, diff: f32, imp: f32) -> f32 { return ${relu ? 'select(0.0, 2.0 * imp * diff * SCALE, pre > 0.0)' : '2.0 * imp * diff * SCALE'}; }
${drawQuad(s.signed)}

@group(0) @binding(0) var<storage, read_write> P: array<f32>;   // ${params}
@group(0) @binding(1) var<storage, read_write> MV: array<f32>;  // Adam m, then v
@group(0) @binding(2) var<storage, read_write> X: array<f32>;   // the batch [I, B, N]
@group(0) @binding(3) var<storage, read_write> HG: array<f32>;  // h [I, B, M], then the hidden gradient [I, B, M]
@group(0) @binding(4) var<storage, read_write> D: array<f32>;   // ∂L/∂pre-activation [I, B, N]
@group(0) @binding(5) var<storage, read_write> R: array<f32>;   // partial gradients, loss terms, instance losses
@group(0) @binding(6) var<storage, read> C: array<u32>;         // f32 bits of importance [I, N] and feature probability [I, N], then each instance's stream key (seed, index)
@group(0) @binding(7) var<uniform> step: Step;
`;
}

/** The kernels every training module shares: `adam`, `lossReduce`, and the split path's `draw` and `normalize`. */
function sharedKernels(s: KernelShape): string {
  const inv = splitInvocations(s);
  return `
@compute @workgroup_size(${WORKGROUP})
fn adam(@builtin(global_invocation_id) gid: vec3<u32>) {
  let p = gid.x;
  if (p >= PALL) { return; }
  var g = 0.0;
  for (var sp = 0u; sp < S; sp++) { g += R[sp * PALL + p]; }
  let w = P[p];
  g += step.l2 * w;
  let m = BETA1 * MV[p] + (1.0 - BETA1) * g;
  let v = BETA2 * MV[PALL + p] + (1.0 - BETA2) * g * g;
  MV[p] = m;
  MV[PALL + p] = v;
  P[p] = w * step.decay - step.stepSize * m / (sqrt(v / step.bc2) + EPS);
}

var<workgroup> part: array<f32, ${WORKGROUP}>;

@compute @workgroup_size(${WORKGROUP})
fn lossReduce(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i = wg.x;
  var acc = 0.0;
  for (var s = li; s < LOSS_TERMS; s += ${WORKGROUP}u) { acc += R[LOSS + i * LOSS_TERMS + s]; }
  part[li] = acc;
  workgroupBarrier();
  for (var w = ${WORKGROUP / 2}u; w > 0u; w >>= 1u) {
    if (li < w) { part[li] += part[li + w]; }
    workgroupBarrier();
  }
  if (li == 0u) { R[LOSS_OUT + i] = part[0] * SCALE; }
}

// ---- the split path: one kernel per stage ----

@compute @workgroup_size(${WORKGROUP})
fn draw(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x + gid.y * ${stride(inv.draw)};
  let NQ = (N + 3u) / 4u;
  if (t >= I * B * NQ) { return; }
  let q = t % NQ;
  let row = t / NQ;
  let x = drawQuad(row / B, row % B, q);
  storeQuad(row * N + 4u * q, N - 4u * q, x);
}

@compute @workgroup_size(${WORKGROUP})
fn normalize(@builtin(global_invocation_id) gid: vec3<u32>) {
  let row = gid.x + gid.y * ${stride(inv.normalize)};
  if (row >= I * B) { return; }
  var q2 = 0.0;
  for (var f = 0u; f < N; f++) { let x = X[row * N + f]; q2 += x * x; }
  if (q2 > 0.0) { let inv = 1.0 / sqrt(q2); for (var f = 0u; f < N; f++) { X[row * N + f] *= inv; } }
}
`;
}

/**
 * The `wgrad` kernel: one invocation per parameter row f of instance i
 * (t = i · N + f) and sample range sp (samples s0 … s1 − 1), running `body`.
 */
function wgradKernel(comment: string, body: string): string {
  return `@compute @workgroup_size(${WORKGROUP})
fn wgrad(@builtin(global_invocation_id) gid: vec3<u32>) {
  ${comment}
  let t = gid.x;
  let sp = gid.y;
  if (t >= I * N) { return; }
  let i = t / N;
  let f = t % N;
  let s0 = sp * CHUNK;
  let s1 = min(B, s0 + CHUNK);
${body}
}`;
}

/**
 * The split path's `output` kernel, one invocation per sample and output f:
 * pre = b_f + Σ_k h_k · W[k → f] (`weight`: the WGSL index of that weight;
 * `liveOnly`: only over h_k > 0), x′ = act(pre), its gradient d against
 * `target` and, on a loss step, the loss term.
 */
function outputKernel(stride: string, o: { bias: string; weight: string; target: string; liveOnly?: boolean }): string {
  const add = `pre += h * P[${o.weight}];`;
  return `@compute @workgroup_size(${WORKGROUP})
fn output(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x + gid.y * ${stride};
  if (t >= I * B * N) { return; }
  let f = t % N;
  let row = t / N;
  let i = row / B;
  var pre = P[${o.bias} + i * N + f];
  for (var k = 0u; k < M; k++) {
    let h = HG[row * M + k];
    ${o.liveOnly ? `if (h > 0.0) { ${add} }` : add}
  }
  let diff = act(pre) - ${o.target};
  let imp = bitcast<f32>(C[i * N + f]);
  D[t] = outGrad(pre, diff, imp);
  if (step.withLoss != 0u) { R[LOSS + t] = imp * diff * diff; }
}
`;
}

/** The dispatch stride (invocations per row of workgroups) of a kernel with `n` invocations, as WGSL. */
const stride = (n: number) => `${dispatchSize(n)[0] * WORKGROUP}u`;

/**
 * The training module of a plan. For the tied models: `forward` (one
 * invocation per sample: draw or read x, h = Wᵀx, x′ = act(W h + b), the
 * output gradient d, g = Wᵀ d and the sample's loss) or the split path's
 * `draw`, `normalize`, `hidden`, `output` and `gback` (one kernel per stage);
 * `wgrad` (one invocation per parameter row and sample range: the partial
 * gradient Σ d·h + g·x), `adam` (sum the partials, Adam/AdamW update) and
 * `lossReduce` (one workgroup per instance: the mean loss). For a ReLU hidden
 * layer (`layer: 'hidden'`) see {@link hiddenLayerKernels}.
 */
export function trainingModule(s: KernelShape): string {
  if (s.layer === 'hidden') return moduleHeader(s, true, s.untied ? 'W₁ [I, N, M], W₂ [I, M, N], then b [I, N]' : 'W [I, N, M], then b [I, N]') + hiddenLayerKernels(s) + sharedKernels(s);
  const inv = splitInvocations(s);
  return /* wgsl */ `${moduleHeader(s, s.relu, 'W [I, N, M], then b [I, N]')}
@compute @workgroup_size(${WORKGROUP})
fn forward(@builtin(global_invocation_id) gid: vec3<u32>) {
  let t = gid.x;
  if (t >= I * B) { return; }
  let i = t / B;
  let s = t % B;
  let xo = t * N;
  let wo = i * N * M;
  let bo = PW + i * N;
${
  s.data === 'device'
    ? `  var q2 = 0.0;
  for (var q = 0u; 4u * q < N; q++) {
    let x = drawQuad(i, s, q);
    q2 += dot(x, x);
    storeQuad(xo + 4u * q, N - 4u * q, x);
  }
${s.unitNorm ? `  if (q2 > 0.0) { let inv = 1.0 / sqrt(q2); for (var f = 0u; f < N; f++) { X[xo + f] *= inv; } }\n` : ''}`
    : ''
}
${sampleBody(s.hidden)}
  R[LOSS + t] = loss;
}

${wgradKernel('// row f of instance i: gW[f, k] = Σ_s d_f h_k + x_f g_k, gb[f] = Σ_s d_f (a sample with d_f = x_f = 0 adds nothing)', wgradBody(s.hidden))}

${projectKernel('hidden', 'X', '', stride(inv.hidden))}
${outputKernel(stride(inv.output), { bias: 'PW', weight: 'i * N * M + f * M + k', target: 'X[t]' })}

${projectKernel('gback', 'D', 'IBM + ', stride(inv.hidden))}
${sharedKernels(s)}`;
}

/**
 * The split-path kernels of a ReLU hidden layer, h = ReLU(x W₁) and
 * x′ = ReLU(h W₂ + b) with target x or |x|: `hidden` (one invocation per
 * sample and hidden unit: h), `output` (per sample and output: x′, its
 * gradient d and loss term), `gback` (per sample and hidden unit: the hidden
 * gradient (W₂ d)·[h > 0]) and `wgrad` (per parameter row f and sample range:
 * Σ x_f·dh into W₁'s row, Σ d_f·h into W₂'s column, or both into W's row when
 * W₂ = W₁ᵀ, and Σ d_f into b_f).
 */
function hiddenLayerKernels(s: KernelShape): string {
  const { instances: I, features: N, hidden: M } = s;
  const inv = splitInvocations(s);
  const PW2 = I * N * M;
  const PB = PW2 + (s.untied ? I * M * N : 0);
  // the index of W₂[k, f] of instance i: its own [I, M, N], or W₁[f, k]
  const w2At = (k: string) => (s.untied ? `PW2 + i * M * N + ${k} * N + f` : `i * N * M + f * M + ${k}`);
  const w2 = w2At('k');
  return /* wgsl */ `
const PW2 = ${PW2}u; const PB = ${PB}u;

/** What output f is trained to match. */
fn wanted(x: f32) -> f32 { return ${s.abs ? 'abs(x)' : 'x'}; }

${projectKernel('hidden', 'X', '', stride(inv.hidden), { gate: (acc) => `max(${acc}, 0.0)` })}
${outputKernel(stride(inv.output), { bias: 'PB', weight: w2, target: 'wanted(X[t])', liveOnly: true })}
${projectKernel('gback', 'D', 'IBM + ', stride(inv.hidden), { weight: w2, live: 'HG[t] > 0.0' })}
${wgradKernel(
  '// row f of instance i: gW₁[f, k] = Σ_s x_f dh_k, gW₂[k, f] = Σ_s d_f h_k (their sum when W₂ = W₁ᵀ), gb[f] = Σ_s d_f',
  wgradBody(M, { untied: !!s.untied, w2At }),
)}
`;
}
