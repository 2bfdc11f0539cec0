import type { VegaLiteSpec } from './specs.js';

/**
 * Compile a Vega-Lite spec and render it to an SVG string. Works headless in
 * Node (no `canvas` needed: text widths are estimated) and in browsers.
 * `vega` and `vega-lite` are loaded on first use.
 */
export async function renderSvg(spec: VegaLiteSpec): Promise<string> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const compiled = vl.compile(spec as never).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return stableIds(await view.toSVG());
  } finally {
    view.finalize();
  }
}

/**
 * Vega numbers the ids of gradients and clip paths with counters global to the
 * process, so the same spec rendered later in a run gave another SVG. Renumber
 * them in order of appearance (per prefix) so that the output depends on the
 * spec alone.
 */
function stableIds(svg: string): string {
  const renamed = new Map<string, string>();
  const next = new Map<string, number>();
  for (const [, id] of svg.matchAll(/\bid="([^"]*?\d+)"/g)) {
    if (renamed.has(id)) continue;
    const prefix = id.replace(/\d+$/, '');
    const k = next.get(prefix) ?? 0;
    next.set(prefix, k + 1);
    renamed.set(id, `${prefix}${k}`);
  }
  if (!renamed.size) return svg;
  return svg.replace(/(\bid="|url\(#|href="#)([^")]*?\d+)(?=[")])/g, (all, lead: string, id: string) => (renamed.has(id) ? lead + renamed.get(id)! : all));
}

/** A figure mounted in a page by {@link renderInto}. */
export interface MountedFigure {
  /** Replace the figure with a new spec (e.g. after more training steps). */
  update(spec: VegaLiteSpec): Promise<void>;
  /** Remove the figure and free its view. */
  finalize(): void;
}

/**
 * The element {@link renderInto} draws into: an `HTMLElement` in a browser.
 * Typed by what it uses, so that code importing `@tms/viz` in Node compiles
 * without the DOM library.
 */
export interface ElementLike {
  /** Its content, cleared by `finalize()`. */
  innerHTML: string;
  /** A DOM node type (1 for an element). */
  readonly nodeType: number;
  /** Its inner width in pixels (what {@link RenderOptions.wrap} fits the panels into). */
  readonly clientWidth?: number;
}

/** Options of {@link renderInto}. */
export interface RenderOptions {
  /**
   * `dark` draws text, axes and grid in light greys on a transparent
   * background, for pages in dark mode (default `light`: Vega's defaults).
   */
  theme?: 'light' | 'dark';
  /**
   * Scale the figure down to the element's width when it is wider (the SVG
   * keeps its aspect ratio; default true), so that no figure overflows a narrow
   * column or a phone screen.
   */
  fit?: boolean;
  /**
   * Small multiples wrap (default true): when the figure is wider than the
   * element, its rows of panels are laid out in as many columns as fit (see
   * {@link wrapColumns}) before anything is scaled down.
   */
  wrap?: boolean;
}

/**
 * The widest row of small multiples of a spec: the panels of its top-level
 * `hconcat`, or of the `hconcat` of each of its top-level `vconcat` rows (1
 * when it has none).
 */
export function panelsPerRow(spec: VegaLiteSpec): number {
  const rows = rowsOf(spec);
  return rows ? Math.max(1, ...rows.map((r) => r.length)) : 1;
}

function rowsOf(spec: VegaLiteSpec): unknown[][] | null {
  if (Array.isArray(spec.hconcat)) return [spec.hconcat as unknown[]];
  if (Array.isArray(spec.vconcat) && (spec.vconcat as VegaLiteSpec[]).every((r) => Array.isArray(r?.hconcat))) return (spec.vconcat as VegaLiteSpec[]).map((r) => r.hconcat as unknown[]);
  return null;
}

/**
 * `spec` with its rows of small multiples (see {@link panelsPerRow}) wrapped
 * into grids of `columns` panels (Vega-Lite's `concat` with `columns`); other
 * specs unchanged.
 *
 * @example
 * ```ts
 * const narrow = wrapColumns(introFigureSpec(panels), 3); // each model's 7 sparsities in rows of 3
 * ```
 */
export function wrapColumns(spec: VegaLiteSpec, columns: number): VegaLiteSpec {
  if (!Number.isInteger(columns) || columns < 1) throw new RangeError(`"columns": expected an integer ≥ 1, got ${String(columns)}`);
  const wrapRow = (row: VegaLiteSpec): VegaLiteSpec => {
    const { hconcat, ...rest } = row;
    return (hconcat as unknown[]).length <= columns ? row : { ...rest, concat: hconcat, columns };
  };
  if (Array.isArray(spec.hconcat)) return wrapRow(spec);
  if (rowsOf(spec)) return { ...spec, vconcat: (spec.vconcat as VegaLiteSpec[]).map(wrapRow) };
  return spec;
}

/** Vega-Lite config of the `dark` theme: light greys on a transparent background. */
export const DARK_CONFIG = {
  background: 'transparent',
  title: { color: '#e6e6e6', subtitleColor: '#c8c8c8' },
  axis: { labelColor: '#c8c8c8', titleColor: '#e6e6e6', domainColor: '#8c8c8c', tickColor: '#8c8c8c', gridColor: '#3c3c3c' },
  legend: { labelColor: '#c8c8c8', titleColor: '#e6e6e6' },
  header: { labelColor: '#c8c8c8', titleColor: '#e6e6e6' },
  view: { stroke: '#5a5a5a' },
  text: { color: '#e6e6e6' },
} as const;

/** `spec` with the theme's config merged under its own (the spec's settings win, one level deep). */
export function themed(spec: VegaLiteSpec, theme: 'light' | 'dark' = 'light'): VegaLiteSpec {
  if (theme === 'light') return spec;
  const own = (spec.config ?? {}) as Record<string, unknown>;
  const config: Record<string, unknown> = { ...DARK_CONFIG };
  for (const [k, v] of Object.entries(own)) {
    const base = config[k];
    config[k] = base && typeof base === 'object' && v && typeof v === 'object' ? { ...base, ...v } : v;
  }
  return { ...spec, config };
}

/**
 * Render a Vega-Lite spec live into a DOM element (browser). Call `update` with a
 * new spec as training progresses; each update re-renders in place as SVG.
 * Figures wider than the element are scaled down to fit it (see {@link RenderOptions}).
 */
export async function renderInto(element: ElementLike, spec: VegaLiteSpec, options: RenderOptions = {}): Promise<MountedFigure> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  let view: InstanceType<typeof vega.View> | null = null;
  // columns chosen at the first draw that overflowed (updates keep the layout)
  let columns: number | undefined;
  const render = async (s: VegaLiteSpec) => {
    const compiled = vl.compile(themed(columns ? wrapColumns(s, columns) : s, options.theme) as never).spec;
    const next = new vega.View(vega.parse(compiled), { renderer: 'svg', container: element as never, hover: true });
    await next.runAsync();
    view?.finalize();
    view = next;
  };
  const draw = async (s: VegaLiteSpec) => {
    await render(s);
    const room = element.clientWidth ?? 0;
    const panels = panelsPerRow(s);
    if ((options.wrap ?? true) && columns === undefined && room > 0 && panels > 1) {
      const natural = svgWidth(element);
      if (natural > room) {
        columns = Math.max(1, Math.min(panels - 1, Math.floor((panels * room) / natural)));
        await render(s);
      }
    }
    if (options.fit ?? true) fitToWidth(element);
  };
  await draw(spec);
  return {
    update: draw,
    finalize() {
      view?.finalize();
      view = null;
      element.innerHTML = '';
    },
  };
}

/** The SVG rendered into `element`, if any. */
function svgOf(element: ElementLike) {
  return (element as unknown as { querySelector?(q: string): { getAttribute(n: string): string | null; setAttribute(n: string, v: string): void; style: Record<string, string> } | null }).querySelector?.('svg') ?? null;
}

/** The rendered SVG's natural width (0 when there is none). */
function svgWidth(element: ElementLike): number {
  return Number(svgOf(element)?.getAttribute('width') ?? 0) || 0;
}

/** Let the rendered SVG shrink with its container (it keeps its size when there is room). */
function fitToWidth(element: ElementLike): void {
  const svg = svgOf(element);
  if (!svg) return;
  const w = Number(svg.getAttribute('width'));
  const h = Number(svg.getAttribute('height'));
  if (!(w > 0 && h > 0)) return;
  if (!svg.getAttribute('viewBox')) svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  svg.style.maxWidth = '100%';
  svg.style.height = 'auto';
}
