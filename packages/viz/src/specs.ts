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

/** Colour of WᵀW entries and biases: red negative, blue positive, clamped to [-1, 1]. */
const DIVERGING = { field: 'v', type: 'quantitative', scale: { scheme: 'redblue', domain: [-1, 1], clamp: true }, legend: null } as const;

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
      color: DIVERGING,
      tooltip: [
        { field: 'i', title: 'feature i' },
        { field: 'j', title: 'feature j' },
        { field: 'v', title: 'Wᵢ·Wⱼ', format: '.3f' },
      ],
    },
  };
}

/** A value on a grid of two settings, for {@link gridHeatmapSpec}. */
export interface GridCell {
  /** Column value (e.g. training-set size T). */
  x: number;
  /** Row value (e.g. hidden size m). */
  y: number;
  /** The cell's number (e.g. test loss), coloured. */
  value: number;
}

/**
 * A heatmap of one value over a grid of two settings (e.g. test loss over
 * training-set size and hidden dimensions), each cell labelled with its value.
 */
export function gridHeatmapSpec(
  cells: GridCell[],
  opts: { title?: string; xTitle?: string; yTitle?: string; valueTitle?: string; scheme?: string; cell?: number } = {},
): VegaLiteSpec {
  const xs = new Set(cells.map((c) => c.x)).size;
  const ys = new Set(cells.map((c) => c.y)).size;
  const size = opts.cell ?? 48;
  const encoding = {
    x: { field: 'x', type: 'ordinal', title: opts.xTitle ?? 'x', sort: 'ascending' },
    y: { field: 'y', type: 'ordinal', title: opts.yTitle ?? 'y', sort: 'descending' },
  };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    width: xs * size,
    height: ys * Math.round(size * 0.6),
    data: { values: cells },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          ...encoding,
          color: { field: 'value', type: 'quantitative', title: opts.valueTitle ?? 'value', scale: { scheme: opts.scheme ?? 'viridis' } },
          tooltip: [{ field: 'x', title: opts.xTitle ?? 'x' }, { field: 'y', title: opts.yTitle ?? 'y' }, { field: 'value', title: opts.valueTitle ?? 'value', format: '.4~g' }],
        },
      },
      {
        mark: { type: 'text', fontSize: 9, color: 'white' },
        encoding: { ...encoding, text: { field: 'value', type: 'quantitative', format: '.3f' } },
      },
    ],
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
      color: DIVERGING,
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
 * Name of the linked-hover selection of the figures with one mark per feature (the intro
 * figure, feature directions, neuron weights): the feature under the pointer, highlighted in
 * every panel of the figure at once.
 */
export const FEATURE_HOVER = 'feature';

/** `unit` named `name`, drawn faint unless its feature is the hovered one (or none is). */
function linked(unit: VegaLiteSpec, name: string): VegaLiteSpec {
  const encoding = unit.encoding as Record<string, unknown>;
  return { ...unit, name, encoding: { ...encoding, opacity: { condition: { param: FEATURE_HOVER, empty: true, value: 1 }, value: 0.2 } } };
}

/** The {@link FEATURE_HOVER} point selection on the feature field `field`, shared by the named views. */
function featureHover(field: string, views: string[]): Record<string, unknown> {
  return { name: FEATURE_HOVER, select: { type: 'point', fields: [field], on: 'pointerover', clear: 'pointerout' }, views };
}

/**
 * The paper's introductory figure: for each model (rows) and sparsity (columns),
 * WᵀW and b above the feature norms coloured by superposition. Hovering a
 * feature (its norm bar, bias cell or WᵀW row) highlights that feature in every
 * panel at once (the {@link FEATURE_HOVER} selection).
 */
export function introFigureSpec(panels: IntroPanel[], opts: { title?: string; cell?: number } = {}): VegaLiteSpec {
  const rows = [...new Set(panels.map((p) => p.row))];
  const views: string[] = [];
  const view = (unit: VegaLiteSpec, kind: string) => {
    const name = `${kind}_${views.length}`;
    views.push(name);
    return linked(unit, name);
  };
  const spec: VegaLiteSpec = {
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
              hconcat: [view(interferenceHeatmap(p.wtw, { title: p.label, cell: opts.cell }), 'wtw'), view(biasColumn(p.bias, { cell: opts.cell }), 'bias')],
              spacing: 2,
              resolve: INDEPENDENT,
            },
            view(featureNormBars(p.norms, p.superposition, { cell: opts.cell }), 'norms'),
          ],
          spacing: 4,
          resolve: INDEPENDENT,
        })),
      resolve: INDEPENDENT,
    })),
    resolve: INDEPENDENT,
  };
  return { ...spec, params: [featureHover('i', views)] };
}

/** One line of a {@link lineChartSpec}. */
export interface LineSeries {
  /** Legend label. */
  name: string;
  /** x values. */
  x: number[];
  /** y values, one per x. */
  y: number[];
}

/** Options of {@link lineChartSpec}. */
export interface LineChartOptions {
  /** Chart title. */
  title?: string;
  /** x-axis title. */
  xTitle?: string;
  /** y-axis title. */
  yTitle?: string;
  /** Log-scale x axis. */
  logX?: boolean;
  /** Log-scale y axis. */
  logY?: boolean;
  /** Width in pixels (default 400). */
  width?: number;
  /** Height in pixels (default 250). */
  height?: number;
  /** Horizontal reference lines with labels (e.g. the sticky points). */
  rules?: { y: number; label: string }[];
  /** Draw points as well as lines. */
  points?: boolean;
}

/** A line chart of several series, with optional log axes and labelled horizontal rules. */
export function lineChartSpec(series: LineSeries[], opts: LineChartOptions = {}): VegaLiteSpec {
  const values = series.flatMap((s) => s.x.map((x, k) => ({ series: s.name, x, y: s.y[k] })));
  const layers: VegaLiteSpec[] = [
    {
      data: { values },
      mark: { type: 'line', point: opts.points ?? false },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: opts.xTitle ?? 'x', scale: opts.logX ? { type: 'log' } : {} },
        y: { field: 'y', type: 'quantitative', title: opts.yTitle ?? 'y', scale: opts.logY ? { type: 'log' } : {} },
        color: { field: 'series', type: 'nominal', title: null, legend: series.length > 1 && series.length <= 20 ? {} : null },
        tooltip: [{ field: 'series', title: 'line' }, { field: 'x', title: opts.xTitle ?? 'x', format: '.4~g' }, { field: 'y', title: opts.yTitle ?? 'y', format: '.4~g' }],
      },
    },
  ];
  if (opts.rules?.length) {
    layers.push(...ruleLayers(opts.rules));
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    width: opts.width ?? 400,
    height: opts.height ?? 250,
    layer: layers,
  };
}

function ruleLayers(rules: { y: number; label: string }[]): VegaLiteSpec[] {
  return [
    {
      data: { values: rules },
      mark: { type: 'rule', strokeDash: [4, 4], color: '#999' },
      encoding: { y: { field: 'y', type: 'quantitative' } },
    },
    {
      data: { values: rules },
      mark: { type: 'text', align: 'right', dx: -2, dy: -5, color: '#666', fontSize: 9 },
      encoding: { y: { field: 'y', type: 'quantitative' }, text: { field: 'label' }, x: { value: 400 } },
    },
  ];
}

/** A line chart of loss over training steps, one line per series (e.g. per instance), log y. */
export function lossCurveSpec(
  series: { name: string; steps: number[]; loss: number[] }[],
  opts: { title?: string; width?: number; height?: number } = {},
): VegaLiteSpec {
  return lineChartSpec(
    series.map((s) => ({ name: s.name, x: s.steps, y: s.loss })),
    { ...opts, xTitle: 'step', yTitle: 'loss', logY: true },
  );
}

/** One panel of {@link featureDirectionsSpec}: the 2D embedding of each feature. */
export interface DirectionsPanel {
  /** Panel title. */
  label: string;
  /** `[features][2]`: the columns Wᵢ of W. */
  W: number[][];
  /** Optional value per feature used for colour (default: the feature index). */
  color?: number[];
}

/**
 * Feature directions in a 2D hidden space (the paper's pentagon figure): a line
 * from the origin to each Wᵢ, one small panel per model. Hovering a feature's
 * line or point highlights that feature in every panel (the {@link FEATURE_HOVER}
 * selection).
 *
 * @param opts - `colorType`: how the panels' `color` values read, `quantitative` (the default: a measure such
 *   as importance or dimensionality) or `ordinal` (group ids such as a feature's pair: one legend entry per id)
 */
export function featureDirectionsSpec(panels: DirectionsPanel[], opts: { title?: string; size?: number; colorTitle?: string; colorType?: 'quantitative' | 'ordinal' } = {}): VegaLiteSpec {
  const size = opts.size ?? 120;
  // the selection lives on each panel's point layer (one per layered panel: Vega allows one
  // selection of a name per scope); both layers fade with it
  const views: string[] = [];
  const view = (unit: VegaLiteSpec, selects: boolean) => {
    const name = `direction_${views.length}${selects ? '' : '_line'}`;
    if (selects) views.push(name);
    return linked(unit, name);
  };
  const spec: VegaLiteSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    config: { view: { stroke: '#ddd' }, font: 'sans-serif' },
    hconcat: panels.map((p) => {
      const values = p.W.map((w, i) => ({ i, x0: 0, y0: 0, x: w[0], y: w[1] ?? 0, c: p.color?.[i] ?? i }));
      const lim = Math.max(1.2, ...values.map((v) => Math.max(Math.abs(v.x), Math.abs(v.y)) * 1.1));
      const scale = { domain: [-lim, lim] };
      const color = { field: 'c', type: p.color ? (opts.colorType ?? 'quantitative') : 'ordinal', title: opts.colorTitle ?? 'feature', scale: { scheme: 'viridis' } };
      return {
        title: { text: p.label, fontSize: 10 },
        width: size,
        height: size,
        data: { values },
        layer: [
          view({
            mark: { type: 'rule', strokeWidth: 2 },
            encoding: {
              x: { field: 'x0', type: 'quantitative', scale, axis: null },
              y: { field: 'y0', type: 'quantitative', scale, axis: null },
              x2: { field: 'x' },
              y2: { field: 'y' },
              color,
            },
          }, false),
          view({
            mark: { type: 'point', filled: true, size: 30 },
            encoding: {
              x: { field: 'x', type: 'quantitative', scale, axis: null },
              y: { field: 'y', type: 'quantitative', scale, axis: null },
              color,
              tooltip: [{ field: 'i', title: 'feature' }, { field: 'x', format: '.3f' }, { field: 'y', format: '.3f' }],
            },
          }, true),
        ],
      };
    }),
    resolve: { scale: { color: 'shared' } },
  };
  return { ...spec, params: [featureHover('i', views)] };
}

/** One cell of a phase diagram. */
export interface PhaseCell {
  /** Feature density 1/(1−S) or 1−S, as the x axis. */
  x: number;
  /** Relative importance of the extra feature. */
  y: number;
  /** The phase drawn in the cell (its colour). */
  phase: string;
  /** Share (0–1) of the cell's runs in `phase`; cells that have one are shaded by it. */
  share?: number;
}

const PHASE_COLORS = { domain: ['not-represented', 'dedicated', 'superposition'], range: ['#d9d9d9', '#3b75af', '#ef8636'] };
/** With the bias-free models' fourth phase (both features on one side of the axis). */
const PHASE_COLORS_CONFUSED = { domain: [...PHASE_COLORS.domain, 'confused'], range: [...PHASE_COLORS.range, '#59a14f'] };

/**
 * Phase diagrams side by side (e.g. empirical and theoretical): x = feature
 * density (log), y = relative importance of the extra feature (log), colour =
 * phase (`not-represented`, `dedicated`, `superposition`, and `confused` for
 * bias-free models when a cell has it).
 */
export function phaseDiagramSpec(
  diagrams: { title: string; cells: PhaseCell[] }[],
  opts: { title?: string; xTitle?: string; yTitle?: string; size?: number } = {},
): VegaLiteSpec {
  const size = opts.size ?? 220;
  const colors = diagrams.some((d) => d.cells.some((c) => c.phase === 'confused')) ? PHASE_COLORS_CONFUSED : PHASE_COLORS;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    config: { font: 'sans-serif' },
    hconcat: diagrams.map((d) => {
      const xs = [...new Set(d.cells.map((c) => c.x))].sort((a, b) => a - b);
      const ys = [...new Set(d.cells.map((c) => c.y))].sort((a, b) => a - b);
      const shaded = d.cells.some((c) => c.share !== undefined);
      return {
        title: d.title,
        width: size,
        height: size,
        data: { values: d.cells.map((c) => ({ ...c, xi: xs.indexOf(c.x), yi: ys.indexOf(c.y) })) },
        mark: { type: 'rect' },
        encoding: {
          x: {
            field: 'x',
            type: 'ordinal',
            sort: 'ascending',
            title: opts.xTitle ?? '1/(1−S)  (1: dense → sparse)',
            axis: { labelExpr: "format(datum.value, '.2~g')", labelAngle: 0, values: thin(xs) },
          },
          y: {
            field: 'y',
            type: 'ordinal',
            sort: 'descending',
            title: opts.yTitle ?? 'relative importance of extra feature',
            axis: { labelExpr: "format(datum.value, '.2~g')", values: thin(ys) },
          },
          color: { field: 'phase', type: 'nominal', scale: colors, title: 'extra feature' },
          ...(shaded
            ? { opacity: { field: 'share', type: 'quantitative', scale: { domain: [0, 1], range: [0.15, 1] }, title: 'share of runs' } }
            : {}),
          // the tooltip names each value as the axes and the legend do
          tooltip: [
            { field: 'x', title: opts.xTitle ?? '1/(1−S)', format: '.3~g' },
            { field: 'y', title: opts.yTitle ?? 'relative importance', format: '.3~g' },
            { field: 'phase', title: 'extra feature' },
            ...(shaded ? [{ field: 'share', title: 'share of runs', format: '.0%' }] : []),
          ],
        },
      };
    }),
  };
}

/** One panel of {@link lossSurfaceSpec}: a loss over a grid of two weights. */
export interface LossSurfacePanel {
  /** Panel title. */
  title: string;
  /** The grid of weights, used for both axes. */
  w: number[];
  /** `loss[i][j]` at (w₁, w₂) = (w[i], w[j]). */
  loss: number[][];
  /** Points to mark, e.g. the minimum (w₁, w₂). */
  marks?: [number, number][];
}

/**
 * Loss surfaces side by side (e.g. Tom McGrath's bias-free n = 2, m = 1
 * surfaces): x = w₁, y = w₂, colour = log₁₀ of the loss relative to the
 * panel's minimum, with marked points (the minima) as white circles.
 */
export function lossSurfaceSpec(panels: LossSurfacePanel[], opts: { title?: string; size?: number } = {}): VegaLiteSpec {
  const size = opts.size ?? 200;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    config: { font: 'sans-serif' },
    hconcat: panels.map((p) => {
      const lo = Math.min(...p.loss.flat());
      const values = p.loss.flatMap((row, i) => row.map((v, j) => ({ w1: p.w[i], w2: p.w[j], loss: v, rel: Math.log10(v / lo) })));
      const step = p.w.length > 1 ? p.w[1] - p.w[0] : 1;
      const lo0 = p.w[0] - step / 2;
      const hi0 = p.w[p.w.length - 1] + step / 2;
      const ticks = Array.from({ length: 5 }, (_, k) => Number((p.w[0] + ((p.w[p.w.length - 1] - p.w[0]) * k) / 4).toPrecision(3)));
      const axis = (title: string) => ({ field: title === 'w₁' ? 'w1' : 'w2', type: 'quantitative', title, scale: { domain: [lo0, hi0], nice: false }, axis: { values: ticks, format: '.2~f' } });
      return {
        title: p.title,
        width: size,
        height: size,
        layer: [
          {
            data: { values },
            mark: { type: 'rect' },
            encoding: {
              x: { ...axis('w₁'), bin: { step, anchor: p.w[0] - step / 2 } },
              y: { ...axis('w₂'), bin: { step, anchor: p.w[0] - step / 2 } },
              color: { field: 'rel', type: 'quantitative', aggregate: 'mean', scale: { scheme: 'viridis', domain: [0, 1.5], clamp: true }, title: 'log₁₀(L / L_min)' },
              tooltip: [
                { field: 'w1', aggregate: 'mean', format: '.2f', title: 'w₁' },
                { field: 'w2', aggregate: 'mean', format: '.2f', title: 'w₂' },
                { field: 'loss', aggregate: 'mean', format: '.3~g', title: 'loss' },
              ],
            },
          },
          ...(p.marks?.length
            ? [
                {
                  data: { values: p.marks.map(([a, b]) => ({ w1: a, w2: b })) },
                  mark: { type: 'point', shape: 'circle', filled: false, color: 'white', size: 80, strokeWidth: 2 },
                  encoding: { x: axis('w₁'), y: axis('w₂') },
                },
              ]
            : []),
        ],
      };
    }),
    resolve: { scale: { color: 'shared' } },
  };
}

function thin(v: number[]): number[] {
  const step = Math.max(1, Math.ceil(v.length / 6));
  return v.filter((_, i) => i % step === 0 || i === v.length - 1);
}

/** Points of the dimensions-per-feature figure. */
export interface DimensionalityData {
  /** One point per model: its density and m/‖W‖_F². */
  models: { density: number; dimsPerFeature: number }[];
  /** One point per represented feature: its model's density and Dᵢ. */
  features: { density: number; dimensionality: number }[];
  /** Sticky fractions to mark, e.g. STICKY_POINTS from `@tms/analysis`. */
  sticky: { value: number; label: string }[];
}

/**
 * The geometry figure: dimensions per feature m/‖W‖_F² (line) and each feature's
 * dimensionality Dᵢ (dots) against feature density 1/(1−S) on a log axis, with
 * the sticky fractions 1, 3/4, 2/3, 1/2, 2/5, 3/8, 1/3 marked.
 */
export function dimensionalitySpec(data: DimensionalityData, opts: { title?: string; width?: number; height?: number } = {}): VegaLiteSpec {
  const x = { field: 'density', type: 'quantitative', scale: { type: 'log' }, title: '1/(1−S)  (1: dense → sparse)' };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    width: opts.width ?? 500,
    height: opts.height ?? 300,
    layer: [
      ...ruleLayers(data.sticky.map((s) => ({ y: s.value, label: s.label }))),
      {
        data: { values: data.features },
        mark: { type: 'point', filled: true, size: 12, opacity: 0.35, color: '#3b75af' },
        encoding: { x, y: { field: 'dimensionality', type: 'quantitative', title: 'dimensionality', scale: { domain: [0, 1.1] } } },
      },
      {
        data: { values: data.models },
        mark: { type: 'line', color: 'black', point: { color: 'black', size: 20 } },
        encoding: { x, y: { field: 'dimsPerFeature', type: 'quantitative' } },
      },
    ],
  };
}

/** One model of {@link neuronWeightsSpec}. */
export interface NeuronPanel {
  /** Panel title. */
  label: string;
  /** `[features][neurons]` input weights into each neuron. */
  W: number[][];
}

/**
 * Per-neuron stacked bars of the feature weights going into each hidden neuron
 * (positive up, negative down), coloured by feature: monosemantic neurons show
 * one colour, polysemantic neurons several. Hovering a feature's bar highlights
 * it in every neuron of every panel (the {@link FEATURE_HOVER} selection).
 */
export function neuronWeightsSpec(panels: NeuronPanel[], opts: { title?: string; width?: number; height?: number } = {}): VegaLiteSpec {
  const views = panels.map((_, k) => `neurons_${k}`);
  const spec: VegaLiteSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    config: { font: 'sans-serif' },
    hconcat: panels.map((p, k) => linked({
      title: { text: p.label, fontSize: 10 },
      width: opts.width ?? Math.max(60, (p.W[0]?.length ?? 1) * 10),
      height: opts.height ?? 160,
      data: { values: p.W.flatMap((row, feature) => row.map((weight, neuron) => ({ feature, neuron, weight }))) },
      mark: { type: 'bar' },
      encoding: {
        x: { field: 'neuron', type: 'ordinal', title: 'neuron', axis: { labels: false, ticks: false } },
        y: { field: 'weight', type: 'quantitative', aggregate: 'sum', stack: 'zero', title: 'weight' },
        color: { field: 'feature', type: 'ordinal', scale: { scheme: 'tableau20' }, title: 'feature' },
        tooltip: [{ field: 'neuron' }, { field: 'feature' }, { field: 'weight', format: '.3f' }],
      },
    }, views[k])),
    resolve: { scale: { y: 'independent' } },
  };
  return { ...spec, params: [featureHover('feature', views)] };
}

/** One row of {@link seedSpreadSpec}: a number measured once per replicate seed. */
export interface SeedRow {
  /** What was measured, e.g. a headline number's name. */
  name: string;
  /** The seeds, in the order of `values`. */
  seeds: number[];
  /** One value per seed (NaN is left out). */
  values: number[];
  /** The median over the seeds (drawn as a tick). */
  median: number;
}

/**
 * The spread of numbers over replicate seeds: one small strip per number,
 * a point per seed (hover for its seed) and a tick at the median, each strip
 * on its own x scale. What `tms run --seeds K` draws as `seeds.svg`.
 */
export function seedSpreadSpec(rows: SeedRow[], opts: { title?: string; width?: number } = {}): VegaLiteSpec {
  const width = opts.width ?? 320;
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    ...(opts.title ? { title: opts.title } : {}),
    config: { view: { stroke: null }, font: 'sans-serif' },
    vconcat: rows.map((r) => ({
      width,
      height: 22,
      title: { text: r.name, fontSize: 11, anchor: 'start' },
      layer: [
        {
          data: { values: r.values.flatMap((v, k) => (Number.isFinite(v) ? [{ value: v, seed: r.seeds[k] }] : [])) },
          mark: { type: 'point', filled: true, opacity: 0.7 },
          encoding: {
            x: { field: 'value', type: 'quantitative', title: null, scale: { zero: false, nice: true }, axis: { format: '~g' } },
            tooltip: [{ field: 'seed' }, { field: 'value', format: '.4~g' }],
          },
        },
        {
          data: { values: Number.isFinite(r.median) ? [{ value: r.median }] : [] },
          mark: { type: 'tick', color: '#d62728', thickness: 2 },
          encoding: { x: { field: 'value', type: 'quantitative' }, tooltip: [{ field: 'value', title: 'median', format: '.4~g' }] },
        },
      ],
    })),
  };
}
