/**
 * Vega-Lite spec builders for the figures of "Toy Models of Superposition".
 * They return plain JSON objects (no vega import), usable with `renderSvg` in
 * Node or `vega-embed` in a browser, and cheap to rebuild while a model trains.
 */

/** A Vega-Lite specification (kept loose so that any valid spec can be composed). */
export type VegaLiteSpec = Record<string, unknown>;

/** Colours used across figures. */
export const COLORS = {
  /** Superposition colour ramp: black (a dedicated dimension) to yellow (heavy superposition). */
  superposition: ['#000000', '#5b2a86', '#d1495b', '#f4a259', '#f5e663'],
} as const;

/** Composed panels keep their own scales (each panel has its own colour meaning). */
const INDEPENDENT = { scale: { color: 'independent', x: 'independent', y: 'independent' } } as const;

/** Options shared by small panels. */
export interface PanelOptions {
  /** Panel title. */
  title?: string;
  /** Pixel size of one cell / bar. Default 8. */
  cell?: number;
}

/**
 * Heatmap of the interference matrix WᵀW (n×n), diverging on [-1, 1]: red negative, blue positive.
 *
 * @param wtw - `[features][features]` matrix (from `interference()` in `@tms/analysis`)
 */
export function interferenceHeatmap(wtw: number[][], opts: PanelOptions = {}): VegaLiteSpec {
  const cell = opts.cell ?? 8;
  const values: { i: number; j: number; v: number }[] = [];
  wtw.forEach((row, i) => row.forEach((v, j) => values.push({ i, j, v })));
  const n = wtw.length;
  return {
    ...(opts.title ? { title: { text: opts.title, fontSize: 10 } } : {}),
    width: n * cell,
    height: n * cell,
    data: { values },
    mark: { type: 'rect' },
    encoding: {
      x: { field: 'j', type: 'ordinal', axis: null },
      y: { field: 'i', type: 'ordinal', axis: null },
      color: {
        field: 'v',
        type: 'quantitative',
        scale: { scheme: 'redblue', domain: [-1, 1], clamp: true },
        legend: null,
      },
      tooltip: [
        { field: 'i', title: 'feature i' },
        { field: 'j', title: 'feature j' },
        { field: 'v', title: 'Wᵢ·Wⱼ', format: '.3f' },
      ],
    },
  };
}

/** A one-column heatmap of the bias vector b (n entries), same colour scale as WᵀW. */
export function biasColumn(b: number[], opts: PanelOptions = {}): VegaLiteSpec {
  const cell = opts.cell ?? 8;
  return {
    ...(opts.title ? { title: { text: opts.title, fontSize: 10 } } : {}),
    width: cell,
    height: b.length * cell,
    data: { values: b.map((v, i) => ({ i, v })) },
    mark: { type: 'rect' },
    encoding: {
      y: { field: 'i', type: 'ordinal', axis: null },
      color: {
        field: 'v',
        type: 'quantitative',
        scale: { scheme: 'redblue', domain: [-1, 1], clamp: true },
        legend: null,
      },
      tooltip: [
        { field: 'i', title: 'feature' },
        { field: 'v', title: 'bᵢ', format: '.3f' },
      ],
    },
  };
}

/**
 * Horizontal bars of feature norms ‖W_i‖ coloured by superposition Σⱼ≠ᵢ(Ŵᵢ·Wⱼ)²
 * (black: dedicated dimension, yellow: superposition).
 */
export function featureNormBars(norms: number[], superposition: number[], opts: PanelOptions = {}): VegaLiteSpec {
  const cell = opts.cell ?? 8;
  return {
    ...(opts.title ? { title: { text: opts.title, fontSize: 10 } } : {}),
    width: 8 * cell,
    height: norms.length * cell,
    data: { values: norms.map((norm, i) => ({ i, norm, superposition: superposition[i] ?? 0 })) },
    mark: { type: 'bar' },
    encoding: {
      y: { field: 'i', type: 'ordinal', axis: null },
      x: { field: 'norm', type: 'quantitative', scale: { domain: [0, 1.2], clamp: true }, axis: { title: '‖Wᵢ‖', tickCount: 2 } },
      color: {
        field: 'superposition',
        type: 'quantitative',
        scale: { type: 'linear', range: [...COLORS.superposition], domain: [0, 1], clamp: true, interpolate: 'rgb' },
        legend: null,
      },
      tooltip: [
        { field: 'i', title: 'feature' },
        { field: 'norm', title: '‖Wᵢ‖', format: '.3f' },
        { field: 'superposition', title: 'superposition', format: '.3f' },
      ],
    },
  };
}

/** One trained model of the intro figure. */
export interface IntroPanel {
  /** Column label, e.g. "S = 0.9". */
  label: string;
  /** Row label, e.g. "ReLU output". */
  row: string;
  /** WᵀW, `[n][n]`. */
  wtw: number[][];
  /** Bias, `[n]`. */
  bias: number[];
  /** ‖W_i‖, `[n]`. */
  norms: number[];
  /** Superposition per feature, `[n]`. */
  superposition: number[];
}

/**
 * The paper's introductory figure: for each model (rows) and sparsity (columns),
 * WᵀW and b above the feature norms coloured by superposition.
 */
export function introFigureSpec(panels: IntroPanel[], opts: { title?: string; cell?: number } = {}): VegaLiteSpec {
  const rows = [...new Set(panels.map((p) => p.row))];
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    config: { view: { stroke: null }, font: 'sans-serif', concat: { spacing: 12 } },
    vconcat: rows.map((row) => ({
      title: { text: row, anchor: 'start', fontSize: 12 },
      hconcat: panels
        .filter((p) => p.row === row)
        .map((p) => ({
          vconcat: [
            {
              hconcat: [interferenceHeatmap(p.wtw, { title: p.label, cell: opts.cell }), biasColumn(p.bias, { cell: opts.cell })],
              spacing: 2,
              resolve: INDEPENDENT,
            },
            featureNormBars(p.norms, p.superposition, { cell: opts.cell }),
          ],
          spacing: 4,
          resolve: INDEPENDENT,
        })),
      resolve: INDEPENDENT,
    })),
    resolve: INDEPENDENT,
  };
}

/** A line chart of loss over training steps, one line per series (e.g. per instance), log y. */
export function lossCurveSpec(
  series: { name: string; steps: number[]; loss: number[] }[],
  opts: { title?: string; width?: number; height?: number } = {},
): VegaLiteSpec {
  const values = series.flatMap((s) => s.steps.map((step, k) => ({ series: s.name, step, loss: s.loss[k] })));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    width: opts.width ?? 400,
    height: opts.height ?? 250,
    data: { values },
    mark: { type: 'line' },
    encoding: {
      x: { field: 'step', type: 'quantitative', title: 'step' },
      y: { field: 'loss', type: 'quantitative', scale: { type: 'log' }, title: 'loss' },
      color: { field: 'series', type: 'nominal', title: null },
    },
  };
}
