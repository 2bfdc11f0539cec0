import { describe, expect, it } from 'vitest';
import { DARK_CONFIG, FEATURE_HOVER, featureDirectionsSpec, featureNormBars, interferenceHeatmap, introFigureSpec, lineChartSpec, lossCurveSpec, lossSurfaceSpec, neuronWeightsSpec, panelsPerRow, phaseDiagramSpec, renderSvg, themed, wrapColumns } from '../src/index.js';
import type { VegaLiteSpec } from '../src/index.js';

const panel = (row: string, label: string) => ({
  row,
  label,
  wtw: [
    [1, -0.5],
    [-0.5, 1],
  ],
  bias: [0.1, -0.2],
  norms: [1, 0.8],
  superposition: [0, 0.7],
});

describe('spec builders', () => {
  it('heatmap encodes every WᵀW entry on a fixed [-1, 1] diverging scale', () => {
    const spec = interferenceHeatmap([
      [1, 2],
      [3, 4],
    ]) as { data: { values: { i: number; j: number; v: number }[] }; encoding: { color: { scale: { domain: number[] } } } };
    expect(spec.data.values).toEqual([
      { i: 0, j: 0, v: 1 },
      { i: 0, j: 1, v: 2 },
      { i: 1, j: 0, v: 3 },
      { i: 1, j: 1, v: 4 },
    ]);
    expect(spec.encoding.color.scale.domain).toEqual([-1, 1]);
  });

  it('bars carry norms and superposition', () => {
    const spec = featureNormBars([1, 0.5], [0, 0.9]) as { data: { values: unknown[] } };
    expect(spec.data.values).toEqual([
      { i: 0, norm: 1, superposition: 0 },
      { i: 1, norm: 0.5, superposition: 0.9 },
    ]);
  });

  it('the intro figure has one row per model and one column per sparsity', () => {
    const spec = introFigureSpec([panel('A', 's0'), panel('A', 's1'), panel('B', 's0'), panel('B', 's1')]) as {
      vconcat: { hconcat: unknown[] }[];
    };
    expect(spec.vconcat).toHaveLength(2);
    expect(spec.vconcat[0].hconcat).toHaveLength(2);
  });

  it('the intro figure links hover across panels: one feature selection over every WᵀW, bias and norm view', async () => {
    const spec = introFigureSpec([panel('A', 's0'), panel('A', 's1'), panel('B', 's0')]);
    const params = spec.params as { name: string; select: { type: string; fields: string[]; on: string }; views: string[] }[];
    expect(params).toHaveLength(1);
    expect(params[0]).toMatchObject({ name: FEATURE_HOVER, select: { type: 'point', fields: ['i'], on: 'pointerover' } });
    // 3 panels × (WᵀW, bias, norms)
    expect(params[0].views).toHaveLength(9);
    const units: { name?: string; encoding?: { opacity?: { condition: { param: string } } } }[] = [];
    const walk = (s: unknown): void => {
      if (!s || typeof s !== 'object') return;
      const o = s as Record<string, unknown>;
      if (o.mark) units.push(o as never);
      for (const k of ['vconcat', 'hconcat', 'concat']) if (Array.isArray(o[k])) (o[k] as unknown[]).forEach(walk);
    };
    walk(spec);
    expect(units.map((u) => u.name).sort()).toEqual([...params[0].views].sort());
    for (const u of units) expect(u.encoding?.opacity?.condition.param).toBe(FEATURE_HOVER);
    // it compiles and renders; wrapping the panels keeps the selection
    expect((await renderSvg(spec)).startsWith('<svg')).toBe(true);
    expect(wrapColumns(spec, 2).params).toEqual(spec.params);
    expect((await renderSvg(wrapColumns(spec, 2))).startsWith('<svg')).toBe(true);
  });
});

/**
 * Every mark of `spec` drawn for a feature, headless, with `feature` hovered: its view, the
 * feature and its opacity (the {@link FEATURE_HOVER} store set as a pointer over it would).
 */
async function hovered(spec: VegaLiteSpec, field: string, feature: number, unit: string) {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const view = new vega.View(vega.parse(vl.compile(spec as never).spec), { renderer: 'none' });
  await view.runAsync();
  view.data(`${FEATURE_HOVER}_store`, [{ unit, fields: [{ type: 'E', field }], values: [feature] }]);
  await view.runAsync();
  const marks: { view: string; feature: number; opacity: number }[] = [];
  const walk = (node: { items?: unknown[]; datum?: Record<string, number>; mark?: { name: string; role?: string }; opacity?: number }) => {
    node.items?.forEach((n) => walk(n as never));
    if (node.datum?.[field] !== undefined && node.mark?.role === 'mark') marks.push({ view: node.mark.name.replace(/_marks$/, ''), feature: node.datum[field], opacity: node.opacity ?? 1 });
  };
  walk((view.scenegraph() as unknown as { root: never }).root);
  view.finalize();
  return marks;
}

describe('linked hover: the hovered feature stays opaque in every panel, the others fade', () => {
  it('intro figure (WᵀW, bias and norms of every panel)', async () => {
    const marks = await hovered(introFigureSpec([panel('A', 's0'), panel('B', 's0')]), 'i', 1, 'norms_2');
    expect(new Set(marks.map((m) => m.view)).size).toBe(6);
    for (const m of marks) expect(m.opacity).toBe(m.feature === 1 ? 1 : 0.2);
  });

  it('neuron weights (each feature across the neurons of every model)', async () => {
    const W = [
      [1, 0, 0.2],
      [0.5, 1, 0],
      [0, 0.3, -0.4],
    ];
    const spec = neuronWeightsSpec([
      { label: 'dense', W },
      { label: 'sparse', W: W.map((r) => r.map((w) => -w)) },
    ]);
    expect((spec.params as { name: string; views: string[] }[])[0]).toMatchObject({ name: FEATURE_HOVER, views: ['neurons_0', 'neurons_1'] });
    const marks = await hovered(spec, 'feature', 2, 'neurons_1');
    expect(marks.filter((m) => m.feature === 2).map((m) => m.view).sort()).toEqual(['neurons_0', 'neurons_0', 'neurons_0', 'neurons_1', 'neurons_1', 'neurons_1']);
    for (const m of marks) expect(m.opacity).toBe(m.feature === 2 ? 1 : 0.2);
    expect((await renderSvg(spec)).startsWith('<svg')).toBe(true);
  });

  it('feature directions (line and point of each feature in every panel)', async () => {
    const W = [
      [1, 0],
      [0.3, 0.95],
      [-0.8, 0.6],
    ];
    const spec = featureDirectionsSpec([
      { label: 'T = 5', W },
      { label: 'T = 50', W: W.map(([x, y]) => [y, -x]) },
    ]);
    const marks = await hovered(spec, 'i', 0, 'direction_1');
    // a rule and a point per feature per panel
    expect(marks).toHaveLength(12);
    expect(new Set(marks.map((m) => m.view)).size).toBe(4);
    expect((spec.params as { views: string[] }[])[0]!.views).toEqual(['direction_0', 'direction_1']);
    for (const m of marks) expect(m.opacity).toBe(m.feature === 0 ? 1 : 0.2);
  });
});

describe('renderSvg', () => {
  it('renders the intro figure headless with independent colour scales', async () => {
    const svg = await renderSvg(introFigureSpec([panel('Linear', 'S=0'), panel('ReLU', 'S=0.9')], { title: 'test figure' }));
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg).toContain('test figure');
    expect(svg).toContain('ReLU');
    // positive WᵀW entries are blue, negative red; a feature without superposition is black
    const fills = [...svg.matchAll(/fill="rgb\((\d+), (\d+), (\d+)\)"/g)].map((m) => m.slice(1).map(Number));
    expect(fills.some(([r, , b]) => b > 120 && r < 40)).toBe(true);
    expect(fills.some(([r, , b]) => r > 200 && b < 140)).toBe(true);
    expect(fills.some(([r, g, b]) => r + g + b === 0)).toBe(true);
  });

  it('colours feature directions by group ids with one legend entry per id (colorType ordinal)', async () => {
    const W = [[1, 0], [0.9, 0.1], [0, 1], [0.1, 0.9], [-1, 0], [-0.9, -0.1]];
    const labels = async (colorType?: 'ordinal') =>
      [...(await renderSvg(featureDirectionsSpec([{ label: 'pairs', W, color: [0, 0, 1, 1, 2, 2] }], { colorTitle: 'pair', colorType }))).matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
    const ids = await labels('ordinal');
    expect(ids).toEqual(expect.arrayContaining(['0', '1', '2']));
    expect(ids).not.toContain('0.5');
    // the default reads the values as a measure: a gradient legend with ticks between the ids
    expect(await labels()).toContain('0.5');
  });

  it('renders a loss curve with a log axis', async () => {
    const svg = await renderSvg(lossCurveSpec([{ name: 'a', steps: [1, 2, 3], loss: [1, 0.1, 0.01] }]));
    expect(svg).toContain('<svg');
    expect(svg).toContain('loss');
  });

  it('renders loss surfaces with the minimum marked, and a fourth phase colour only when a cell is confused', async () => {
    const w = [-1, 0, 1];
    const spec = lossSurfaceSpec([{ title: 'bowl', w, loss: w.map((a) => w.map((c) => 1 + (a - 1) ** 2 + c ** 2)), marks: [[1, 0]] }]);
    // 9 cells and one circled minimum; colour = log10 of the loss over the panel's minimum (0 at (1, 0))
    const layer = (spec.hconcat as { layer: { data: { values: { w1: number; w2: number; rel: number }[] } }[] }[])[0].layer;
    expect(layer[0].data.values).toHaveLength(9);
    expect(layer[0].data.values.find((v) => v.w1 === 1 && v.w2 === 0)!.rel).toBe(0);
    expect(layer[1].data.values).toEqual([{ w1: 1, w2: 0 }]);
    expect(await renderSvg(spec)).toContain('bowl');
    // the same spec renders to the same SVG however many figures came before it (the gradient of
    // the colour legend was numbered by a process-wide counter: gradient_0, then gradient_1, …)
    const [first, second] = [await renderSvg(spec), await renderSvg(spec)];
    expect(second).toBe(first);
    expect(first).toMatch(/id="gradient_0"/);
    expect(first).toMatch(/url\(#gradient_0\)/);
    const domain = (cells: { x: number; y: number; phase: string }[]) =>
      ((phaseDiagramSpec([{ title: 't', cells }]).hconcat as { encoding: { color: { scale: { domain: string[] } } } }[])[0]).encoding.color.scale.domain;
    expect(domain([{ x: 1, y: 1, phase: 'dedicated' }])).toEqual(['not-represented', 'dedicated', 'superposition']);
    expect(domain([{ x: 1, y: 1, phase: 'confused' }])).toEqual(['not-represented', 'dedicated', 'superposition', 'confused']);
  });

  it("the dark theme merges light greys under the spec's own config, and renders", async () => {
    const spec = lossCurveSpec([{ name: 'a', steps: [1, 2, 3], loss: [1, 0.1, 0.01] }]);
    expect(themed(spec)).toBe(spec);
    const dark = themed({ ...spec, config: { axis: { labelFontSize: 9 }, font: 'serif' } }, 'dark') as { config: Record<string, any> };
    expect(dark.config.background).toBe('transparent');
    // the spec's settings win, the theme's colours stay
    expect(dark.config.axis).toEqual({ ...DARK_CONFIG.axis, labelFontSize: 9 });
    expect(dark.config.font).toBe('serif');
    const svg = await renderSvg(themed(spec, 'dark'));
    expect(svg).toContain('#c8c8c8');
    expect(svg).not.toMatch(/fill="(white|#fff|#ffffff)"/);
  });
});

describe('small multiples wrap', () => {
  const svgSize = (svg: string) => svg.match(/^<svg[^>]*width="([\d.]+)" height="([\d.]+)"/)!.slice(1).map(Number);
  it('wrapColumns lays each row of panels out in a grid of that many columns, narrower and taller', async () => {
    const spec = introFigureSpec(['S=0', 'S=0.5', 'S=0.9', 'S=0.99', 'S=0.999'].flatMap((s) => [panel('Linear', s), panel('ReLU', s)]));
    expect(panelsPerRow(spec)).toBe(5);
    const [w, h] = svgSize(await renderSvg(spec));
    const wrapped = wrapColumns(spec, 2);
    expect(panelsPerRow(wrapped)).toBe(1);
    const [w2, h2] = svgSize(await renderSvg(wrapped));
    // 5 panels per model in rows of 2: under half the width, three times the height of a row
    expect(w2).toBeLessThan(w / 2);
    expect(h2).toBeGreaterThan(2.5 * h);
    // every panel is still drawn once
    const titles = (svg: string) => (svg.match(/>S=0\.999</g) ?? []).length;
    expect(titles(await renderSvg(wrapped))).toBe(titles(await renderSvg(spec)));
    // enough columns for every panel: unchanged; a spec without rows of panels: unchanged
    expect(wrapColumns(spec, 5)).toEqual(spec);
    const line = lineChartSpec([{ name: 'a', x: [1, 2], y: [1, 0.5] }]);
    expect(panelsPerRow(line)).toBe(1);
    expect(wrapColumns(line, 2)).toBe(line);
    expect(() => wrapColumns(spec, 0)).toThrow(/"columns": expected an integer ≥ 1, got 0/);
  });
});
