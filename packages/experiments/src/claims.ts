import type { ExperimentName } from './index.js';

/** Version of {@link CLAIMS}: raised whenever a claim is added, removed or its threshold changes. */
export const CLAIMS_VERSION = 12;

/** One quantitative claim of the paper, checked on an experiment's headline numbers. */
export interface Claim {
  /** Stable id, e.g. `intro.relu-dense-top5`. */
  id: string;
  /** The experiment whose results it is checked on. */
  experiment: ExperimentName;
  /** The paper section the claim comes from. */
  section: string;
  /** The claim in words. */
  statement: string;
  /** What is measured, from `experiment.headline(results)` and the run's config. */
  measure(headline: Record<string, number>, config: Record<string, unknown>): number;
  /** The condition on the measured value, in words (e.g. `= 5`, `≥ 10`). */
  expected(headline: Record<string, number>, config: Record<string, unknown>): string;
  /** Whether the measured value meets the claim. */
  holds(value: number, headline: Record<string, number>, config: Record<string, unknown>): boolean;
  /** Whether the run covers what the claim is about (e.g. a linear model was trained); default yes. */
  applies?(headline: Record<string, number>, config: Record<string, unknown>): boolean;
}

/** The result of one claim on one results file. */
export interface ClaimResult {
  /** The claim's id. */
  id: string;
  /** The experiment. */
  experiment: string;
  /** The paper section. */
  section: string;
  /** The claim in words. */
  statement: string;
  /** Measured value (NaN when the results lack what the claim measures). */
  value: number;
  /** The condition, e.g. `= 5`. */
  expected: string;
  /** Whether the measured value meets it (false when skipped). */
  pass: boolean;
  /** The run does not cover the claim (it neither passes nor fails). */
  skipped: boolean;
}

type Cmp = { expected: (h: Record<string, number>, c: Record<string, unknown>) => string; holds: Claim['holds'] };
const fixed = (text: string, holds: (v: number) => boolean): Cmp => ({ expected: () => text, holds: (v) => holds(v) });
const eq = (x: number) => fixed(`= ${x}`, (v) => v === x);
const atLeast = (x: number) => fixed(`≥ ${x}`, (v) => v >= x);
const above = (x: number) => fixed(`> ${x}`, (v) => v > x);
const below = (x: number) => fixed(`< ${x}`, (v) => v < x);
const atMost = (x: number) => fixed(`≤ ${x}`, (v) => v <= x);
const within = (lo: number, hi: number) => fixed(`in (${lo}, ${hi})`, (v) => v > lo && v < hi);
const hiddenOf = (c: Record<string, unknown>) => Number(c.hidden);
/** `= m`, the run's hidden dimensions (5 when the config does not say). */
const eqHidden: Cmp = { expected: (_h, c) => `= ${hiddenOf(c) || 5}`, holds: (v, _h, c) => v === (hiddenOf(c) || 5) };
/** `≥ 2m`. */
const atLeastTwiceHidden: Cmp = { expected: (_h, c) => `≥ ${2 * (hiddenOf(c) || 5)}`, holds: (v, _h, c) => v >= 2 * (hiddenOf(c) || 5) };
/** `= min(n, ⌊m/2⌋)`: what pairs of neurons can compute without superposition. */
const pairsOf = (c: Record<string, unknown>) => Math.min(Number(c.features), Math.floor(hiddenOf(c) / 2));
const pairsOfHidden: Cmp = { expected: (_h, c) => `= ${pairsOf(c)}`, holds: (v, _h, c) => v === pairsOf(c) };
/** `> ⌊m/2⌋`. */
const aboveHalfHidden: Cmp = { expected: (_h, c) => `> ${Math.floor(hiddenOf(c) / 2)}`, holds: (v, _h, c) => v > Math.floor(hiddenOf(c) / 2) };
const DD = 'Beyond the paper: Superposition, Memorization, and Double Descent (Henighan et al. 2023)';
/** Weight decay at which the follow-up's bump is gone (it compares 1e-2 with 1.0). */
const strongDecay = (c: Record<string, unknown>) => Number(c.weightDecay) >= 0.5;

function claim(
  experiment: ExperimentName,
  id: string,
  section: string,
  statement: string,
  measure: Claim['measure'],
  cmp: Cmp,
  applies?: Claim['applies'],
): Claim {
  return { id: `${experiment}.${id}`, experiment, section, statement, measure, expected: cmp.expected, holds: cmp.holds, applies };
}

/**
 * The paper's quantitative claims that the catalogue reproduces, one or more
 * per experiment, with thresholds that hold on the quick variants and on the
 * defaults. `tms check <results>` evaluates them; the CLI and browser tests
 * assert them on every quick run.
 */
export const CLAIMS: readonly Claim[] = [
  claim('intro', 'relu-dense-top5', 'Demonstrating Superposition', 'a ReLU-output model with dense features represents exactly the m most important (5 for n = 20, m = 5)', (h) => h.reluDenseRepresented, eqHidden),
  claim('intro', 'relu-sparse-superposition', 'Demonstrating Superposition', 'with sparse features it represents 2m or more in superposition (10 for m = 5)', (h) => h.reluSparsestRepresented, atLeastTwiceHidden),
  claim('intro', 'linear-dense-top5', 'Demonstrating Superposition', 'a linear model represents the m most important features when dense', (h) => h.linearDenseRepresented, eqHidden, (h) => 'linearDenseRepresented' in h),
  claim('intro', 'linear-sparse-top5', 'Demonstrating Superposition', 'and still only those m when sparse (no superposition without a nonlinearity)', (h) => h.linearSparsestRepresented, eqHidden, (h) => 'linearSparsestRepresented' in h),
  claim('intro', 'linear-at-optimum', 'Demonstrating Superposition', 'a trained linear model is as good as any linear model can be: its held-out loss is within 8 % of the analytic optimum (the m most important features kept) at every sparsity', (h) => h.linearRatioToLinearMaxDeviation, below(0.08), (h) => 'linearRatioToLinearMaxDeviation' in h),
  claim('intro', 'relu-beats-linear', 'Demonstrating Superposition', 'with sparse features superposition pays: the ReLU-output model\'s held-out loss is under half the best linear model\'s', (h) => h.reluSparsestRatioToLinear, below(0.5), (h) => 'reluSparsestRatioToLinear' in h),
  claim('intro-2d', 'dense-two', 'Demonstrating Superposition', 'dense: 2 of 5 features get orthogonal directions in 2D', (h) => h.denseRepresented, eq(2)),
  claim('intro-2d', 'dense-linear-optimum', 'Demonstrating Superposition', 'dense: the ReLU-output model does what the best linear model does (held-out loss within 2 % of the analytic optimum; for n = 5, m = 2, I = 0.9ⁱ: (0.9² + 0.9³ + 0.9⁴)/12 summed over features)', (h) => h.denseRatioToLinear, within(0.98, 1.02), (h) => 'denseRatioToLinear' in h),
  claim('intro-2d', 'sparse-pentagon', 'Demonstrating Superposition', 'sparse: all 5 features, as a pentagon', (h) => (h.sparsestRepresented === 5 ? h.sparsestPentagons : 0), eq(1)),
  claim('phase', 'bias-free-confused', 'Superposition as a Phase Change (Tom McGrath\'s comment)', 'without biases, n = 2, m = 1 with dense, equally important features: the exact loss is lowest at w₁ = w₂ = 1/√2, both features "confused" on one direction (largest offset from 1/√2)', (h) => h.biasFreeConfusedOffset, below(0.05), (h) => 'biasFreeConfusedOffset' in h),
  claim('phase', 'paper-n3m2-dedicated', 'Superposition as a Phase Change', 'n = 3, m = 2 with the paper\'s four closed-form solutions: the extra feature is dedicated at every r > 1 (share of those cells)', (h) => h.paperDedicatedAboveOne, eq(1), (h) => 'paperDedicatedAboveOne' in h),
  claim('phase', 'agrees-with-theory', 'Superposition as a Phase Change', 'trained models agree with the theoretical phase diagram on most cells', (h) => h.agreement ?? NaN, atLeast(0.75)),
  claim('geometry', 'dense-one-dim', 'The Geometry of Superposition', 'dense features: one dimension per feature', (h) => h.denseDimsPerFeature, within(0.95, 1.05)),
  claim('geometry', 'sparse-half', 'The Geometry of Superposition', 'sparse features: half a dimension per feature or less', (h) => h.sparsestDimsPerFeature, atMost(0.5)),
  claim('nonuniform', 'unit-density-pentagon', 'Non-Uniform Superposition', 'five equally sparse features in 2D form a pentagon', (h) => h.unitDensityPentagon, eq(1), (h) => 'unitDensityPentagon' in h),
  claim('nonuniform', 'unit-density-regular', 'Non-Uniform Superposition', 'and a regular one: the angles between neighbouring directions are 72° (largest deviation, degrees)', (h) => h.unitDensityAngleDeviation, below(4), (h) => 'unitDensityAngleDeviation' in h),
  claim('nonuniform', 'sparser-collapses', 'Non-Uniform Superposition', 'a feature several times sparser than the rest is dropped and the other four form two digons', (h) => h.sparsestCollapsedToDigons, eq(1), (h) => 'sparsestCollapsedToDigons' in h),
  claim('nonuniform', 'losses-cross', 'Non-Uniform Superposition', "a first-order change: the pentagon's and the digons' loss curves cross (the paper: near 0.4 relative density)", (h) => h.collapseCrossing, within(0.15, 0.5), (h) => 'sparsestCollapsedToDigons' in h),
  claim('nonuniform', 'correlated-orthogonal', 'Non-Uniform Superposition', 'correlated features are placed orthogonally (|cos| within each pair)', (h) => h.correlatedPairCosineMaxAbs, below(0.3)),
  claim('nonuniform', 'anticorrelated-antipodal', 'Non-Uniform Superposition', 'anticorrelated features are placed antipodally (cos within each pair)', (h) => h.anticorrelatedPairCosineMax, below(-0.9)),
  claim('nonuniform', 'collapse-monotone', 'Non-Uniform Superposition (correlated features)', 'three correlated pairs in m = 2 collapse onto their principal components pair by pair as features get denser: the collapsed pairs (cos > 0.9) never fall with density (1 = monotone)', (h) => h.pairCollapseMonotone, eq(1), (h) => 'pairCollapseMonotone' in h),
  claim('nonuniform', 'collapse-dense-all', 'Non-Uniform Superposition (correlated features)', 'at 1 − S ≥ 0.5 all three pairs have collapsed', (h) => h.densestCollapsedPairs, eq(3), (h) => 'densestCollapsedPairs' in h),
  claim('nonuniform', 'local-orthogonal-bases', 'Non-Uniform Superposition (correlated features)', 'two sets of 10 correlated features in m = 10: each set forms a local orthogonal basis (share of within-set pairs with |cos| < 0.1)', (h) => h.localWithinOrthogonalShare, atLeast(0.9), (h) => 'localWithinOrthogonalShare' in h),
  claim('nonuniform', 'local-interference-across', 'Non-Uniform Superposition (correlated features)', 'and puts its interference between the sets: mean |cos| across sets over mean |cos| within', (h) => h.localCrossOverWithin, above(2), (h) => 'localCrossOverWithin' in h),
  claim('dynamics', 'energy-jumps', 'Superposition and Learning Dynamics', 'features jump between sticky dimensionality levels during training (Dᵢ moves by 0.1 or more from one level to another)', (h) => h.jumps, atLeast(1), (_h, c) => !(Number(c.correlatedSets) > 0)),
  claim('dynamics', 'jump-loss-drop', 'Superposition and Learning Dynamics', 'the loss falls suddenly at the jumps: during at least half of them it falls more than twice as fast (per log step) as over the whole run', (h) => h.jumpsWithLossDrop / h.jumps, atLeast(0.5), (h, c) => h.jumps > 0 && !(Number(c.correlatedSets) > 0)),
  claim('dynamics', 'pca-first', 'Superposition and Learning Dynamics', 'two sets of 3 correlated features in m = 3 first learn a PCA-like solution: at least 3 pairs of features of one set point the same way (cos > 0.9) at once', (h) => h.maxCollapsedPairs, atLeast(3), (h) => 'maxCollapsedPairs' in h),
  claim('dynamics', 'octahedron', 'Superposition and Learning Dynamics', 'and end as an octahedron: n/2 antipodal pairs (cos < −0.95), each taking features of different sets, the pairs orthogonal (largest |cos| across pairs below 0.15)', (h, c) => (h.antipodalPairs === Number(c.features) / 2 && h.pairsMixingSets === h.antipodalPairs ? h.crossPairMaxAbsCosine : Number.NaN), below(0.15), (h) => 'antipodalPairs' in h),
  claim('adversarial', 'dense-baseline', 'Relationship to Adversarial Robustness', "the paper's attack raises the loss by ε² on a dense model", (h) => h.denseAttackVulnerability, within(0.9, 1.1)),
  claim('adversarial', 'superposition-vulnerable', 'Relationship to Adversarial Robustness', 'in superposition the same attack does over 3× more damage', (h) => h.sparsestAttackVulnerability / h.denseAttackVulnerability, above(3)),
  claim('adversarial', 'training-reduces-superposition', 'Relationship to Adversarial Robustness', 'adversarial training with the attack on a random feature reduces superposition: features per dimension fall with every larger attack (1 = monotone)', (h) => h.adversarialTrainingMonotone, eq(1), (h) => 'adversarialTrainingMonotone' in h),
  claim('adversarial', 'training-removes-superposition', 'Relationship to Adversarial Robustness', 'attacks of 80 % of the input norm remove it: at most 1.05 features per dimension', (h) => h.largestEpsilonFeaturesPerDimension, atMost(1.05), (h) => h.largestEpsilon >= 0.8),
  claim('computation', 'dense-pairs', 'Computation in Superposition', '|x| when dense: min(n, m/2) features computed (held-out error below half the target variance; 3 for m = 6), each needing a pair of neurons', (h) => h.denseFeaturesComputed, pairsOfHidden),
  claim('computation', 'dense-abs-circuit', 'Computation in Superposition', 'dense: those features each have the absolute-value circuit, two monosemantic neurons ReLU(x) and ReLU(−x) that both write to the feature', (h) => h.densePairedFeatures, pairsOfHidden, (h) => 'densePairedFeatures' in h),
  claim('computation', 'exact-circuit', 'Computation in Superposition', 'with enough neurons (n ≤ m/2, e.g. n = 3, m = 6) the circuit is exact: held-out loss under 1 % of the all-zero output\'s', (h) => h.denseHeldOutToZero, atMost(0.01), (h, c) => 'denseHeldOutToZero' in h && Number(c.features) <= hiddenOf(c) / 2),
  claim('computation', 'dense-monosemantic', 'Computation in Superposition', 'dense: 95 % or more of the live neurons are monosemantic (one feature holds over 90 % of the weight)', (h) => h.denseMonosemanticShare, atLeast(0.95), (h) => 'denseMonosemanticShare' in h),
  claim('computation', 'sparse-more', 'Computation in Superposition', "sparse: more than m/2 features' worth of |x| computed (the held-out share of each feature's variance explained, summed; not weight norms), impossible without superposition: a neuron reading one feature computes one side of its |x|", (h) => h.sparseFeaturesExplainedMax, aboveHalfHidden, (h, c) => 'sparseFeaturesExplainedMax' in h && Number(c.features) > hiddenOf(c) / 2),
  claim('computation', 'sparse-rises', 'Computation in Superposition', "the features' worth computed rises from dense to sparse (never falls by more than 0.25 from one sparsity to the next sparser)", (h) => h.featuresExplainedRises, eq(1), (h) => 'featuresExplainedRises' in h),
  claim('computation', 'sparse-polysemantic', 'Computation in Superposition', 'sparse: neurons turn polysemantic (monosemanticity drops by more than 0.15)', (h) => h.denseMonosemanticity - h.sparseMonosemanticityMin, above(0.15), (_h, c) => Number(c.features) > hiddenOf(c) / 2),
  claim('computation', 'sparsest-all-polysemantic', 'Computation in Superposition', 'at 1 − S = 0.001 all neurons are highly polysemantic: 80 % or more of the live neurons read more than two features (participation ratio > 2)', (h) => h.sparsestPolysemanticShare, atLeast(0.8), (h) => 'sparsestPolysemanticShare' in h && h.sparsestSparsity >= 0.999 - 1e-9),
  claim('computation', 'asymmetric-motif', 'Computation in Superposition (asymmetric superposition)', 'at 1 − S from 0.1 to 0.3 a neuron holds two features with input weights 3–20× apart and reciprocal output weights (within 2×)', (h) => h.midDensityMotifs, atLeast(1), (h, c) => Number.isFinite(h.midDensityMotifs) && Number(c.features) >= 2 * hiddenOf(c)),
  claim('privileged', 'dense-monosemantic', 'Superposition in a Privileged Basis', 'dense: the top 5 features on 5 neurons', (h) => h.denseFeaturesUsed, eq(5)),
  claim('privileged', 'dense-all-monosemantic', 'Superposition in a Privileged Basis', 'at the densest setting every neuron is monosemantic (one feature holds over 90 % of its weight)', (h) => h.denseMonosemanticNeurons, eqHidden, (h) => 'denseMonosemanticNeurons' in h),
  claim('privileged', 'code-regime', 'Superposition in a Privileged Basis', 'at 1 − S from 0.2 to 0.5 the 3 most important features have a neuron each and the next 3 share the other 2 neurons (each on 2 neurons: a binary code)', (h) => h.codeRegime, eq(1), (h) => Number.isFinite(h.codeRegime)),
  claim('privileged', 'sparse-pairs', 'Superposition in a Privileged Basis', 'at 1 − S from 0.02 to 0.04 each represented feature activates a pair of neurons (exactly 2 with a positive weight over 0.3 × its largest; a negative weight only inhibits): 90 % of them or more (the paper shows all, from the best of 1,000 models)', (h) => h.pairRegimeShare, atLeast(0.9), (h) => Number.isFinite(h.pairRegimeShare)),
  claim('privileged', 'monosemantic-falls', 'Superposition in a Privileged Basis', 'the number of monosemantic neurons never rises as features get sparser (1 = monotone)', (h) => h.monosemanticNeuronsMonotone, eq(1), (h) => 'monosemanticNeuronsMonotone' in h),
  claim('privileged', 'sparse-polysemantic', 'Superposition in a Privileged Basis', 'sparse: more features than neurons + 1', (h, c) => h.sparsestFeaturesUsed - hiddenOf(c), above(1)),
  claim('sae', 'sparse-represented', 'Beyond the paper: sparse dictionary learning', 'the sparsest toy model represents 15 or more of 20 features', (h) => h.sparsestRepresented, atLeast(15)),
  claim('sae', 'sae-recovers', 'Beyond the paper: sparse dictionary learning', 'a sparse autoencoder recovers at least 85% of them', (h) => h.sparsestRecoveredBySae / h.sparsestRepresented, atLeast(0.85)),
  claim('sae', 'pca-cannot', 'Beyond the paper: sparse dictionary learning', 'the m principal axes recover at most m of them', (h, c) => h.sparsestRecoveredByPca - hiddenOf(c), atMost(0)),
  claim('l1', 'unpenalised-superposition', 'The Strategic Picture of Superposition (Approach 1)', 'without a penalty, more than 3 features per dimension', (h) => h.unpenalisedFeaturesPerDimension, above(3)),
  claim('l1', 'penalty-removes', 'The Strategic Picture of Superposition (Approach 1)', 'the strongest penalty leaves less than 1 feature per dimension', (h) => h.strongestFeaturesPerDimension, below(1)),
  claim('double-descent', 'small-t-gon', DD, 'at the smallest T the training points form a T-gon: their mean data dimensionality is m/T (within 10 %; m = 2)', (h) => h.smallestSizeDataDimensionalityRatio, within(0.9, 1.1), (_h, c) => hiddenOf(c) === 2),
  claim('double-descent', 'small-features-small', DD, 'while features get little dimensionality (the largest below 0.25: the ~n(1−S) features of one point share its direction)', (h) => h.smallestSizeMaxFeatureDimensionality, below(0.25)),
  claim('double-descent', 'large-pentagon', DD, 'at the largest T the model generalises: exactly 5 features with dimensionality above 0.2 (m = 2)', (h) => h.largestSizeFeaturesAboveFifth, eq(5), (_h, c) => hiddenOf(c) === 2),
  claim('double-descent', 'pentagon-angles', DD, 'at pentagon angles: neighbours 72° ± 6° apart', (h) => h.largestSizePentagonAngleError, atMost(6), (_h, c) => hiddenOf(c) === 2),
  claim('double-descent', 'test-loss-bump', DD, 'the mean test loss has an interior maximum in T, above both ends (double descent)', (h) => h.testLossBump, above(1), (_h, c) => !strongDecay(c)),
  claim('double-descent', 'decay-removes-bump', DD, 'weight decay 1.0 removes the bump: no interior test loss above both ends', (h) => h.testLossBump, atMost(1), (_h, c) => strongDecay(c)),
];

/** Evaluate the claims of `experiment` on its headline numbers and config. */
export function evaluateClaims(experiment: string, headline: Record<string, number>, config: Record<string, unknown>): ClaimResult[] {
  return CLAIMS.filter((c) => c.experiment === experiment).map((c) => {
    const base = { id: c.id, experiment: c.experiment, section: c.section, statement: c.statement, expected: c.expected(headline, config) };
    if (c.applies && !c.applies(headline, config)) return { ...base, value: NaN, pass: false, skipped: true };
    let value = NaN;
    try {
      value = Number(c.measure(headline, config));
    } catch {
      // a results file without the numbers this claim needs
    }
    const pass = typeof value === 'number' && !Number.isNaN(value) && c.holds(value, headline, config);
    return { ...base, value, pass, skipped: false };
  });
}
