import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeSafetensors } from '@tms/core';
import { experiments, getExperiment, resolveConfig, type DoubleDescentPoint, type NeuronModelResult, type L1Point, type PhaseCellResult, type SaePoint, type ExperimentName } from '@tms/experiments';
import { main, runExperiment } from '../src/index.js';
import { HEADLINE_CLAIMS } from '../../experiments/test/headlines.js';

/** Run an experiment's quick variant into a fresh folder; return its results and folder. */
async function quick(name: string, variant = 'quick'): Promise<{ r: any; dir: string }> {
  const dir = join(await mkdtemp(join(tmpdir(), `tms-${name}-`)), 'out');
  const summary = await runExperiment(getExperiment(name)!, {}, { out: dir, variant });
  // the headline claim, the same check the docs' live run makes in the browser
  HEADLINE_CLAIMS[name as ExperimentName](getExperiment(name)!.headline!(summary.results), summary.config as Record<string, unknown>);
  // and `tms check` on the folder agrees: every claim of the experiment holds
  const out: string[] = [];
  expect(await main(['check', dir], { out: (s) => out.push(s), err: (s) => out.push(s) }), out.join('\n')).toBe(0);
  expect(out.at(-1)).toMatch(/^(\d+) of \1 claims hold$/);
  return { r: summary.results, dir };
}

async function svgOf(dir: string, stem: string) {
  const svg = await readFile(join(dir, `${stem}.svg`), 'utf8');
  expect(svg.startsWith('<svg')).toBe(true);
  return svg;
}

describe('catalogue', () => {
  it('has every experiment of the paper with defaults that validate and quick/paper variants', () => {
    expect(Object.keys(experiments)).toEqual([
      'intro',
      'intro-2d',
      'phase',
      'geometry',
      'nonuniform',
      'dynamics',
      'adversarial',
      'computation',
      'privileged',
      'sae',
      'l1',
      'double-descent',
    ]);
    for (const exp of Object.keys(experiments).map((k) => getExperiment(k)!)) {
      expect(() => resolveConfig(exp, {})).not.toThrow();
      expect(Object.keys(exp.variants)).toEqual(expect.arrayContaining(['quick', 'paper']));
      for (const v of Object.keys(exp.variants)) expect(() => resolveConfig(exp, {}, v)).not.toThrow();
    }
  });
});

describe('intro-2d: five features in two dimensions', () => {
  it('dense: the 2 most important features, orthogonal; sparse: all 5 as a pentagon', async () => {
    const { r, dir } = await quick('intro-2d');
    const dense = r.instances[0];
    expect(dense.sparsity).toBe(0);
    expect(dense.representedCount).toBe(2);
    expect(dense.featureNorms[0]).toBeGreaterThan(0.9);
    expect(dense.featureNorms[1]).toBeGreaterThan(0.9);
    expect(dense.polytopes.map((p: any) => p.name)).toEqual(['dedicated dimension', 'dedicated dimension']);
    const sparse = r.instances.at(-1);
    expect(sparse.representedCount).toBe(5);
    expect(sparse.polytopes).toHaveLength(1);
    expect(sparse.polytopes[0]).toMatchObject({ name: 'pentagon', dimension: 2, uniform: true });
    expect(sparse.polytopes[0].meanDimensionality).toBeCloseTo(0.4, 1);
    await svgOf(dir, 'intro-2d');
    // weights exported for Python users
    const st = decodeSafetensors(new Uint8Array(await readFile(join(dir, 'weights.safetensors'))));
    expect(st.tensors['relu-output.W'].shape).toEqual([7, 5, 2]);
    expect(st.metadata.experiment).toBe('intro-2d');
    expect(st.tensors['relu-output.W'].data[0]).toBeCloseTo(r.instances[0].W[0][0], 5);
  });
});

describe('phase: n=2, m=1 phase diagram', () => {
  it('has all three regions in the right corners and agrees with theory on most cells; without biases, a fourth (confused) phase', async () => {
    const { r, dir } = await quick('phase');
    const cells = r.cells as PhaseCellResult[];
    const dens = cells.map((c) => c.density);
    const imps = cells.map((c) => c.relativeImportance);
    const at = (d: number, i: number) => cells.find((c) => c.density === d && c.relativeImportance === i)!;
    const dMin = Math.min(...dens);
    const dMax = Math.max(...dens);
    const iMin = Math.min(...imps);
    const iMax = Math.max(...imps);
    // dense features: an unimportant extra feature is dropped, an important one takes the dimension
    expect(at(dMin, iMin).empirical).toBe('not-represented');
    expect(at(dMin, iMax).empirical).toBe('dedicated');
    // sparse features: superposition
    const sparseColumn = cells.filter((c) => c.density === dMax);
    expect(sparseColumn.filter((c) => c.empirical === 'superposition').length).toBeGreaterThanOrEqual(sparseColumn.length - 2);
    expect(at(dMax, 1).empirical).toBe('superposition');
    // theory agrees on the corners and on most cells
    expect(at(dMin, iMin).theoretical).toBe('not-represented');
    expect(at(dMin, iMax).theoretical).toBe('dedicated');
    expect(at(dMax, 1).theoretical).toBe('superposition');
    expect(r.agreement).toBeGreaterThanOrEqual(0.75);
    const svg = await svgOf(dir, 'phase');
    expect(svg).toContain('theoretical');

    // without biases: the confused phase where features are dense and about equally important, and the loss surfaces
    const dense = cells.filter((c) => c.density === 1);
    // McGrath: with no bias to cancel interference, dense features share one direction ("confused") at r = 1,
    // the dropped / dedicated corners survive at r = 0.1 / 10, and sparse features are antipodal
    expect(dense.find((c) => c.relativeImportance === 1)!.biasFree!.phase).toBe('confused');
    expect(dense.find((c) => c.relativeImportance === 0.1)!.biasFree!.phase).toBe('not-represented');
    expect(dense.find((c) => c.relativeImportance === 10)!.biasFree!.phase).toBe('dedicated');
    expect(cells.filter((c) => c.density === 100).every((c) => c.biasFree!.phase === 'superposition')).toBe(true);
    const [confused, sparse, strong] = r.surfaces;
    expect(confused.minimum.loss).toBeCloseTo(1 / 12, 5);
    expect(sparse.minimum.phase).toBe('superposition');
    expect(strong.minimum.phase).toBe('dedicated');
    expect(confused.loss).toHaveLength(confused.w.length);
    expect(await svgOf(dir, 'phase-bias-free')).toContain('confused');
  });
});

describe('phase: n=3, m=2 phase diagram', () => {
  it('matches the theoretical diagram from optimised candidate solutions', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'tms-phase-n3m2-')), 'out');
    const summary = await runExperiment(experiments.phase, {}, { out: dir, variant: 'n3m2-quick' });
    const r = summary.results as { cells: PhaseCellResult[]; agreement: number };
    const cells = r.cells;
    expect(cells[0].W).toHaveLength(3);
    expect(cells[0].W[0]).toHaveLength(2);
    const dens = cells.map((c) => c.density);
    const imps = cells.map((c) => c.relativeImportance);
    const at = (d: number, i: number) => cells.find((c) => c.density === d && c.relativeImportance === i)!;
    const [dMin, dMax, iMin, iMax] = [Math.min(...dens), Math.max(...dens), Math.min(...imps), Math.max(...imps)];
    for (const key of ['empirical', 'theoretical'] as const) {
      // dense: a weak extra feature is dropped, a strong one takes a dimension from a weaker feature
      expect(at(dMin, iMin)[key]).toBe('not-represented');
      expect(at(dMin, iMax)[key]).toBe('dedicated');
      // sparse: a weak extra feature joins an antipodal pair; a strong one keeps its dimension while the others pair up
      expect(at(dMax, iMin)[key]).toBe('superposition');
      expect(at(dMax, iMax)[key]).toBe('dedicated');
    }
    expect(at(dMax, iMax).theoreticalLosses!.dedicated).toBeCloseTo((2 * (1 / dMax) ** 2) / 6, 8);
    expect(r.agreement).toBeGreaterThanOrEqual(0.75);
    // beside it the paper's own diagram from its four closed forms: dedicated for every r > 1
    for (const c of cells) if (c.relativeImportance > 1) expect(c.paperTheoretical).toBe('dedicated');
    expect(at(dMax, iMin).paperTheoretical).toBe('superposition');
    HEADLINE_CLAIMS.phase(experiments.phase.headline!(summary.results as never), summary.config);
    expect(await svgOf(dir, 'phase')).toContain('four closed forms');
  });
});

describe('geometry: dimensions per feature and polytopes', () => {
  it('dims per feature is 1 when dense and falls to 1/2 or below when sparse; polytopes appear', async () => {
    const { r, dir } = await quick('geometry');
    const pts = r.points as { density: number; dimsPerFeature: number; dimensionality: number[]; polytopes: Record<string, number> }[];
    expect(pts[0].density).toBe(1);
    expect(pts[0].dimsPerFeature).toBeGreaterThan(0.95);
    expect(pts[0].dimsPerFeature).toBeLessThan(1.05);
    const last = pts.at(-1)!;
    expect(last.dimsPerFeature).toBeLessThanOrEqual(0.5);
    // monotone-ish decrease
    for (let k = 1; k < pts.length; k++) expect(pts[k].dimsPerFeature).toBeLessThan(pts[k - 1].dimsPerFeature + 0.05);
    // named uniform polytopes (digons, pentagons, ...) are detected at intermediate sparsity
    const named = pts.flatMap((p) => Object.keys(p.polytopes));
    expect(named).toContain('digon');
    // feature dimensionalities sit near sticky fractions for a good share of features
    const sticky = [1, 3 / 4, 2 / 3, 1 / 2, 2 / 5, 3 / 8, 1 / 3, 1 / 4];
    const all = pts.flatMap((p) => p.dimensionality);
    const near = all.filter((d) => sticky.some((s) => Math.abs(d - s) < 0.05)).length;
    expect(near / all.length).toBeGreaterThan(0.6);
    const svg = await svgOf(dir, 'geometry');
    expect(svg).toContain('3/8');
  });
});

describe('nonuniform: sparser, denser, correlated and anticorrelated features', () => {
  it('correlated pairs go orthogonal, anticorrelated pairs antipodal, the others repel from a denser feature, the pentagon collapses when one is sparser', async () => {
    const { r, dir } = await quick('nonuniform');
    expect(Math.abs(r.correlated.withinPairCosine[0])).toBeLessThan(0.3);
    expect(Math.abs(r.correlated.withinPairCosine[1])).toBeLessThan(0.3);
    for (const v of r.correlated.featureNorms) expect(v).toBeGreaterThan(0.5);
    expect(r.anticorrelated.withinPairCosine[0]).toBeLessThan(-0.9);
    expect(r.anticorrelated.withinPairCosine[1]).toBeLessThan(-0.9);
    const denser = r.denserFeature.filter((d: any) => d.densityFactor >= 1);
    const uniform = denser[0];
    expect(uniform.densityFactor).toBe(1);
    expect(uniform.geometry).toBe('pentagon');
    expect(uniform.featureNorms.filter((v: number) => v > 0.5)).toHaveLength(5);
    // and a regular one: neighbouring directions 72° apart (seed 0: within 0.74°; seeds 1, 2: 1.10°, 1.49°)
    const angles = uniform.W.map(([x, y]: number[]) => (Math.atan2(y, x) * 180) / Math.PI).sort((a: number, b: number) => a - b);
    const gaps = angles.map((a: number, i: number) => (i + 1 < angles.length ? angles[i + 1] : angles[0] + 360) - a);
    for (const g of gaps) expect(Math.abs(g - 72)).toBeLessThan(4);
    // sparser side: at 0.2 feature 0 is dropped and the other four form two digons (the paper: at ~2.5×
    // sparser); from 0.3 on the pentagon holds. Restarts found both geometries at 0.2–0.5, and their best
    // held-out losses, on samples shared by the restarts, cross near 0.25 (also at the defaults). On
    // 2,000,000 fresh samples (numpy, seed 0) the pentagon is 4.6 % below the digons at 0.3 (1.271e-3 vs
    // 1.333e-3) and 10 % above them at 0.2; each restart's own 16,384 samples used to pick the digons at 0.3.
    const at = (f: number) => r.denserFeature.find((d: any) => d.densityFactor === f);
    expect(at(0.2).geometry).toBe('digons');
    expect(at(0.2).featureNorms[0]).toBeLessThan(0.1);
    expect(at(0.2).geometryLoss.digons).toBeLessThan(at(0.2).geometryLoss.pentagon);
    for (const f of [0.3, 0.4, 0.5]) {
      expect(at(f).geometry).toBe('pentagon');
      expect(at(f).geometryLoss.pentagon).toBeLessThan(at(f).geometryLoss.digons);
    }
    // interference of feature 0 with the others: large in the pentagon, and falling as feature 0 gets
    // denser (the paper: the others repel from it, the pentagon deforms smoothly). With the lowest-loss
    // of 4 restarts, seeds 0–3 fall from 1.9 to between 1.07 and 1.56 at 10× denser.
    const interference0 = (d: any) =>
      d.cosines[0].reduce((s: number, c: number, j: number) => (j === 0 ? s : s + (c * d.featureNorms[j]) ** 2), 0);
    const curve = denser.map(interference0);
    expect(curve[0]).toBeGreaterThan(1.5);
    expect(curve.at(-1)).toBeLessThan(curve[0] - 0.25);
    // monotone within noise: restarts whose losses are within 0.3 % (a tie on 2,000,000 samples) differ by up to 0.06
    // here (seed 0, at equal density: 1.913–1.971), so the kept one can rise by that much
    for (let i = 1; i < curve.length; i++) expect(curve[i]).toBeLessThan(curve[i - 1] + 0.1);
    await svgOf(dir, 'nonuniform-correlation');
    await svgOf(dir, 'nonuniform-density');
    await svgOf(dir, 'nonuniform-collapse');

    // part 4: three correlated pairs in 2D. Sparse: side by side (positive cosines, none collapsed; seed 0);
    // denser: pair by pair onto the principal components (seed 0: 0, 1, 2, 3 collapsed at 1−S = 0.02, 0.1, 0.2, 0.5)
    const collapse = r.pairCollapse as { density: number; collapsedPairs: number; pairCosines: number[]; restartCollapsedPairs: number[] }[];
    expect(collapse.map((p) => p.density)).toEqual([0.02, 0.1, 0.2, 0.5]);
    expect(collapse.map((p) => p.collapsedPairs)).toEqual([0, 1, 2, 3]);
    for (const c of collapse[0].pairCosines) expect(c).toBeGreaterThan(0.1);
    for (const c of collapse[3].pairCosines) expect(c).toBeGreaterThan(0.9);
    expect(collapse[3].restartCollapsedPairs).toEqual([3, 3, 3, 3]);
    // part 5: two sets of 10 in m = 10: orthogonal within each set, interference across
    expect(r.localBases.withinOrthogonalShare).toBeGreaterThanOrEqual(0.9);
    expect(r.localBases.meanCrossAbsCosine).toBeGreaterThan(2 * r.localBases.meanWithinAbsCosine);
    expect(r.localBases.featureNorms.every((v: number) => v > 0.9)).toBe(true);
    await svgOf(dir, 'nonuniform-pair-collapse');
    await svgOf(dir, 'nonuniform-local-bases');
  });
});

describe('dynamics: feature dimensionality during training', () => {
  it('features jump between sticky levels while the loss falls faster than usual, and end as digons', async () => {
    const { r, dir } = await quick('dynamics');
    expect(r.snapshots.length).toBeGreaterThanOrEqual(60);
    // every snapshot carries the loss on one fixed held-out set, falling overall
    expect(r.snapshots.every((s: any) => s.loss > 0)).toBe(true);
    expect(r.snapshots.at(-1).loss).toBeLessThan(r.snapshots[0].loss / 10);
    // seed 0: 3 jumps by ≥ 0.1 (1/3 → 1/2 twice, 3/4 → 1/2), the loss falling 2× its average rate or more at each
    expect(r.jumps.length).toBeGreaterThanOrEqual(2);
    for (const j of r.jumps) {
      expect(Math.abs(j.to - j.from)).toBeGreaterThanOrEqual(0.1);
      expect(j.arrivedAt).toBeGreaterThan(j.leftAt);
    }
    expect(r.jumpsWithLossDrop).toBeGreaterThanOrEqual(2);
    expect(r.jumps.filter((j: any) => j.dropRate > 2).length).toBe(r.jumpsWithLossDrop);
    // the paper picks a model whose features all end as digons (Dᵢ = 1/2)
    const last = r.snapshots.at(-1);
    for (const d of last.dimensionality) expect(d).toBeCloseTo(0.5, 1);
    const svg = await svgOf(dir, 'dynamics');
    expect(svg).toContain('Loss on a fixed held-out set');
  });

  it('geometric: correlated sets collapse PCA-like first, then separate into an octahedron of antipodal pairs', async () => {
    const dir = join(await mkdtemp(join(tmpdir(), 'tms-dynamics-geometric-')), 'out');
    const { results, config } = await runExperiment(getExperiment('dynamics')!, { steps: 6000, lr: 3e-3 }, { out: dir, variant: 'geometric' });
    const r = results as any;
    expect(config).toMatchObject({ features: 6, hidden: 3, correlatedSets: 2, sparsity: 0.9 });
    HEADLINE_CLAIMS.dynamics(getExperiment('dynamics')!.headline!(results), config);
    const g = r.geometry;
    // a stage where all 6 within-set pairs point the same way (each set on its principal direction) …
    expect(g.maxCollapsedPairs).toBe(6);
    expect(g.collapsedPairs.at(-1)).toBe(0);
    // … then 3 antipodal pairs, each one feature of each set {0,1,2} / {3,4,5}, orthogonal to each other
    expect(g.antipodalPairs).toHaveLength(3);
    for (const [a, b] of g.antipodalPairs) expect(a < 3).not.toBe(b < 3);
    for (const c of g.pairCosines) expect(c).toBeLessThan(-0.95);
    expect(g.crossPairMaxAbsCosine).toBeLessThan(0.15);
    // the loss drops at the separation: the collapsed stage's loss is over twice the final one
    const collapsedAt = r.snapshots.findIndex((s: any) => s.step === g.mostCollapsedStep);
    expect(r.snapshots[collapsedAt].loss).toBeGreaterThan(2 * r.snapshots.at(-1).loss);
    const out: string[] = [];
    expect(await main(['check', dir], { out: (s) => out.push(s), err: (s) => out.push(s) }), out.join('\n')).toBe(0);
    expect(out.join('\n')).toMatch(/PASS {2}dynamics\.octahedron/);
  });
});

describe('adversarial: vulnerability vs sparsity', () => {
  it('is 1 without superposition and grows with sparsity', async () => {
    const { r, dir } = await quick('adversarial');
    const pts = r.points as { sparsity: number; vulnerability: number }[];
    expect(pts[0].sparsity).toBe(0);
    expect(pts[0].vulnerability).toBeCloseTo(1, 1);
    expect(pts.at(-1)!.vulnerability).toBeGreaterThan(2 * pts[0].vulnerability);
    expect(Math.max(...pts.map((p) => p.vulnerability))).toBe(Math.max(...pts.slice(-2).map((p) => p.vulnerability)));
    // the paper's attack: loss increase / ε² is 1 when dense, rises > 3× as superposition forms,
    // and tracks features per dimension
    const att = r.points as { attackVulnerability: number; dimsPerFeature: number; attackSamples: number }[];
    expect(att[0].attackVulnerability).toBeGreaterThan(0.9);
    expect(att[0].attackVulnerability).toBeLessThan(1.1);
    expect(att.at(-1)!.attackVulnerability).toBeGreaterThan(3 * att[0].attackVulnerability);
    expect(att.at(-1)!.attackSamples).toBeGreaterThan(100);
    const a = att.map((p) => p.attackVulnerability);
    const f = att.map((p) => 1 / p.dimsPerFeature);
    const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const [ma, mf] = [mean(a), mean(f)];
    const cov = mean(a.map((x, i) => (x - ma) * (f[i] - mf)));
    const corr = cov / Math.sqrt(mean(a.map((x) => (x - ma) ** 2)) * mean(f.map((x) => (x - mf) ** 2)));
    expect(corr).toBeGreaterThan(0.8);
    expect(await svgOf(dir, 'adversarial')).toContain("paper's attack");

    // adversarial training at S = 0.99 (the attack on a random feature, ε × each input's norm):
    // superposition falls with every larger ε (seed 0: 5.4, 4.2, 2.9, 0.88 features per dimension) and is gone at 0.8
    const training = r.training as { epsilon: number; featuresPerDimension: number; represented: number; heldOutLoss: number }[];
    expect(training.map((p) => p.epsilon)).toEqual([0, 0.1, 0.3, 0.8]);
    expect(training[0].featuresPerDimension).toBeGreaterThan(4);
    for (let k = 1; k < training.length; k++) expect(training[k].featuresPerDimension).toBeLessThan(training[k - 1].featuresPerDimension);
    expect(training[3].featuresPerDimension).toBeLessThanOrEqual(1.05);
    expect(training[3].represented).toBeLessThan(training[0].represented);
    // the price: a higher clean loss
    expect(training[3].heldOutLoss).toBeGreaterThan(training[0].heldOutLoss);
    expect(await svgOf(dir, 'adversarial-training')).toContain('no superposition');
  });
});

describe('computation: absolute value in superposition', () => {
  it('dense: monosemantic neuron pairs for the top features; sparse: more features, polysemantic neurons', async () => {
    const { r, dir } = await quick('computation');
    const models = r.models as NeuronModelResult[];
    const dense = models[0];
    expect(dense.monosemanticity).toBeGreaterThan(0.95);
    expect(dense.featuresUsed).toBe(3); // 6 neurons = 3 pairs ReLU(x), ReLU(−x)
    // each used feature is read by exactly two neurons of opposite sign (gradient descent
    // may settle on features other than the top 3: a local optimum)
    const used = [...new Set(dense.neurons.map((x) => x.dominantFeature))];
    expect(used).toHaveLength(3);
    for (const f of used) {
      const readers = dense.neurons.filter((x) => x.dominantFeature === f);
      expect(readers).toHaveLength(2);
      const signs = readers.map((x) => Math.sign(dense.W[f][x.neuron]));
      expect(signs.sort()).toEqual([-1, 1]);
    }
    const sparse = models.slice(1);
    // inputs of both signs: no 'activated' neurons per feature, nor the privileged pairs number
    expect(models.every((m) => m.activatedNeuronsPerFeature === null)).toBe(true);
    expect(experiments.computation.headline!(r)).not.toHaveProperty('pairRegimeShare');
    expect(Math.max(...sparse.map((m) => m.featuresUsed))).toBeGreaterThan(3);
    // computed, by held-out error: the 3 pairs when dense, more than m/2 = 3 when sparse
    expect(dense.featuresComputed).toBe(3);
    expect(Math.max(...sparse.map((m) => m.featuresComputed!))).toBeGreaterThan(3);
    // features' worth computed (each feature's held-out share of variance explained, summed): the 3
    // pairs when dense, more than m/2 = 3 when sparse and rising with sparsity; features computed on
    // one side only (ReLU(x) or ReLU(−x) alone) explain about half, where the count flips on noise
    const worth = models.map((m) => m.featuresExplained!);
    expect(worth[0]).toBeGreaterThan(2.9);
    expect(worth[0]).toBeLessThan(3.1);
    // from half-normal W₂ (the defaults) 8.1 at 1 − S = 0.01 on seed 0, and at most 1 of the 10 outputs silent at any
    // sparsity; from normal W₂, 5.6
    expect(Math.max(...worth.slice(1))).toBeGreaterThan(6);
    expect(Math.max(...models.map((m) => m.silentOutputs!))).toBeLessThanOrEqual(1);
    for (let k = 1; k < worth.length; k++) expect(worth[k]).toBeGreaterThan(worth[k - 1] - 0.25);
    expect(models.at(-1)!.featureExplained!.filter((v) => v > 0.4 && v < 0.6).length).toBeGreaterThan(0);
    expect(models.every((m) => Math.abs(m.featureExplained!.reduce((a, v) => a + v, 0) - m.featuresExplained!) < 1e-6)).toBe(true);
    // weight norms misstate it: sparse, they count features read but not computed; the rescaling freedom between
    // W₁ and W₂ lets a feature be computed through a row of norm ≤ 0.5 (seed 0 at 1 − S = 0.1: 6 computed, 5 'used')
    expect(models.at(-1)!.featuresComputed!).toBeLessThan(models.at(-1)!.featuresUsed);
    expect(Math.max(...sparse.map((m) => m.polysemanticNeurons))).toBeGreaterThan(0);
    expect(Math.min(...sparse.map((m) => m.monosemanticity))).toBeLessThan(dense.monosemanticity - 0.15);
    // the circuit: the 3 computed features each on ReLU(x) and ReLU(−x), both writing positively
    expect(dense.pairedFeatures).toEqual(used.sort((a, b) => a - b));
    for (const f of dense.pairedFeatures!) {
      for (const x of dense.neurons.filter((y) => y.dominantFeature === f)) expect(dense.W2![x.neuron][f]).toBeGreaterThan(0);
    }
    // the paper's view: neurons scaled to a largest input weight of ±1 and sorted by their top feature
    const spec = JSON.parse(await readFile(join(dir, 'computation.vl.json'), 'utf8'));
    const bars = spec.hconcat[0].data.values as { feature: number; neuron: number; weight: number }[];
    const peaks = new Map<number, number>();
    for (const b of bars) peaks.set(b.neuron, Math.max(peaks.get(b.neuron) ?? 0, Math.abs(b.weight)));
    for (const v of peaks.values()) expect(v).toBeCloseTo(1, 9);
    const tops = [...peaks.keys()].sort((a, b) => a - b).map((c) => bars.filter((b) => b.neuron === c).sort((a, b) => Math.abs(b.weight) - Math.abs(a.weight))[0].feature);
    expect(tops).toEqual([...tops].sort((a, b) => a - b));
    await svgOf(dir, 'computation');
    expect(await svgOf(dir, 'computation-outputs')).toContain('W₂');
  });

  it('n3m6: three features on six neurons compute |x| exactly', async () => {
    const { r } = await quick('computation', 'n3m6');
    const dense = (r.models as NeuronModelResult[])[0];
    expect(dense.pairedFeatures).toEqual([0, 1, 2]);
    expect(dense.monosemanticShare).toBe(1);
    // held-out loss under 1 % of the all-zero output's (seed 0: 1e-9)
    expect(dense.heldOutToZero!).toBeLessThan(0.01);
  });
});

describe('privileged: ReLU hidden layer', () => {
  it('neurons hold the top features when dense and become polysemantic when sparse', async () => {
    const { r, dir } = await quick('privileged');
    const models = r.models as NeuronModelResult[];
    const dense = models[0];
    expect(dense.featuresUsed).toBe(5);
    expect(new Set(dense.neurons.map((x) => x.dominantFeature))).toEqual(new Set([0, 1, 2, 3, 4]));
    const sparse = models.at(-1)!;
    // superposition: more features than its 5 neurons (seeds 0–3 of the quick variant use 7–10)
    expect(sparse.featuresUsed).toBeGreaterThan(experiments.privileged.defaults.hidden as number + 1);
    expect(sparse.polysemanticNeurons).toBeGreaterThanOrEqual(3);
    expect(sparse.monosemanticity).toBeLessThan(dense.monosemanticity - 0.2);
    // the paper's regimes, from the best of 8 models per sparsity: dense, every neuron monosemantic;
    // at 1 − S = 0.3 the top 3 features on a neuron each and the next 3 on the other 2 (seeds 0–2)
    expect(dense.monosemanticNeurons).toBe(5);
    const mid = models.find((m) => Math.abs(1 - m.sparsity - 0.3) < 1e-9)!;
    expect(mid.neuronsPerFeature.slice(0, 6)).toEqual([1, 1, 1, 2, 2, 2]);
    expect(mid.monosemanticNeurons).toBe(3);
    models.forEach((m, k) => k > 0 && expect(m.monosemanticNeurons).toBeLessThanOrEqual(models[k - 1].monosemanticNeurons));
    // at 1 − S = 0.02 (the paper's sparsest density; pairs from ≤ 0.04) every feature activates a pair of neurons; its
    // other large weights are negative, inhibiting, so counting both signs gives 3–5. Not asserted at 0.03: there the
    // all-pairs code and a mixed one are within 1 % on 2,000,000 fresh samples (seed 0: 3.05e-4 and 3.02e-4), and which
    // restart is kept turns on the held-out samples
    const pairs = models.find((m) => Math.abs(1 - m.sparsity - 0.02) < 1e-9)!;
    expect(pairs.activatedNeuronsPerFeature).toEqual(new Array(10).fill(2));
    expect(Math.max(...pairs.neuronsPerFeature)).toBeGreaterThan(2);
    pairs.W.forEach((row, f) => {
      const top = Math.max(...row);
      expect(row.filter((w) => w > 0.3 * top), `feature ${f}`).toHaveLength(2);
    });
    await svgOf(dir, 'privileged');
  });
});

describe('sae: sparse-autoencoder feature recovery', () => {
  it('recovers more features than dimensions from models in superposition; principal axes cannot', async () => {
    const { r, dir } = await quick('sae');
    const pts = r.points as SaePoint[];
    const m = experiments.sae.defaults.hidden as number;
    const sparsest = pts.at(-1)!;
    expect(sparsest.represented).toBeGreaterThanOrEqual(15);
    // nearly all represented features (seeds 0–3 of the quick variant recover 17–20 of 20)
    expect(sparsest.recoveredBySae).toBeGreaterThanOrEqual(Math.ceil(0.85 * sparsest.represented));
    expect(sparsest.saeMmcs).toBeGreaterThan(0.95);
    for (const p of pts) {
      expect(p.recoveredByPca).toBeLessThanOrEqual(m);
      expect(p.recoveredBySae).toBeLessThanOrEqual(p.represented);
      if (p.sparsity >= 0.9) expect(p.recoveredBySae).toBeGreaterThan(m);
    }
    const st = decodeSafetensors(new Uint8Array(await readFile(join(dir, 'weights.safetensors'))));
    expect(st.tensors['sae.decoder'].shape).toEqual([pts.length, experiments.sae.defaults.dictionarySize, m]);
    expect(await svgOf(dir, 'sae')).toContain('sparse autoencoder');
  });
});

describe('l1: an activation penalty removes superposition', () => {
  it('fewer features and features per dimension below 1 as λ grows, at a rising loss', async () => {
    const { r, dir } = await quick('l1');
    const pts = r.points as L1Point[];
    expect(pts[0].lambda).toBe(0);
    expect(pts[0].represented).toBeGreaterThanOrEqual(15);
    expect(pts[0].featuresPerDimension).toBeGreaterThan(3);
    for (let i = 1; i < pts.length; i++) {
      expect(pts[i].featuresPerDimension).toBeLessThan(pts[i - 1].featuresPerDimension);
      expect(pts[i].represented).toBeLessThanOrEqual(pts[i - 1].represented);
      expect(pts[i].reconstructionLoss).toBeGreaterThan(pts[i - 1].reconstructionLoss);
    }
    const last = pts.at(-1)!;
    expect(last.featuresPerDimension).toBeLessThan(1);
    expect(last.represented).toBeLessThanOrEqual(experiments.l1.defaults.hidden as number);
    expect(last.meanSuperposition).toBeLessThan(0.1 * pts[0].meanSuperposition);
    expect(last.reconstructionLoss).toBeGreaterThan(3 * pts[0].reconstructionLoss);
    await svgOf(dir, 'l1');
    await svgOf(dir, 'l1-loss');
  });
});

describe('double-descent: memorisation, then generalisation, with a test-loss bump in between', () => {
  it('small T: a T-gon of training points; large T: a pentagon of 5 features; the test loss peaks in between', async () => {
    const { r, dir } = await quick('double-descent');
    const points = r.points as DoubleDescentPoint[];
    expect(points.map((p) => p.size)).toEqual([4, 16, 64, 256, 1024]);
    const [first, last] = [points[0], points.at(-1)!];
    // T = 4 in m = 2: the training points sit at the corners of a square, each with D = m/T = 0.5,
    // and the training set is memorised (training loss far below the test loss)
    for (const d of first.meanDataDimensionality) expect(Math.abs(d / first.tGonDimensionality - 1)).toBeLessThan(0.1);
    expect(first.meanTrainLoss).toBeLessThan(0.05);
    expect(first.meanTestLoss).toBeGreaterThan(0.95);
    // T = 1024 (each feature seen ~26 times): 5 features as a pentagon, ‖W‖ near the √5 of the infinite-data solution
    expect(last.featuresAboveFifth).toBe(5);
    expect(last.pentagonAngleError!).toBeLessThan(6);
    for (const w of last.weightNorm) expect(w).toBeGreaterThan(2);
    for (const w of last.weightNorm) expect(w).toBeLessThan(2.8);
    expect(last.meanTestLoss).toBeLessThan(first.meanTestLoss);
    // the bump: an interior size whose mean test loss exceeds both ends, and the weights peak there too
    const means = points.map((p) => p.meanTestLoss);
    expect(Math.max(...means.slice(1, -1))).toBeGreaterThan(Math.max(means[0], means.at(-1)!));
    const wn = points.map((p) => p.weightNorm[0]);
    expect(Math.max(...wn.slice(1, -1))).toBeGreaterThan(Math.max(wn[0], wn.at(-1)!));
    // the (T, m) grid: m = 1 and 2 at every T; m = 2 is the row above
    expect(r.grid.hidden).toEqual([1, 2]);
    expect(r.grid.sizes).toEqual([4, 16, 64, 256, 1024]);
    expect(r.grid.meanTestLoss[1]).toEqual(means);
    for (const loss of r.grid.meanTestLoss[0]) expect(loss).toBeGreaterThan(0.9);
    for (const stem of ['double-descent', 'double-descent-norms', 'double-descent-dimensionality', 'double-descent-points', 'double-descent-features', 'double-descent-grid']) await svgOf(dir, stem);
    const st = decodeSafetensors(new Uint8Array(await readFile(join(dir, 'weights.safetensors'))));
    // the kept initialisation of each of the 2 training sets, per size
    expect(st.tensors['relu-output.W'].shape).toEqual([10, 400, 2]);
  });
});
