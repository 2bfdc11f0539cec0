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
}

/**
 * Render a Vega-Lite spec live into a DOM element (browser). Call `update` with a
 * new spec as training progresses; each update re-renders in place as SVG.
 */
export async function renderInto(element: ElementLike, spec: VegaLiteSpec): Promise<MountedFigure> {
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  let view: InstanceType<typeof vega.View> | null = null;
  const draw = async (s: VegaLiteSpec) => {
    const compiled = vl.compile(s as never).spec;
    const next = new vega.View(vega.parse(compiled), { renderer: 'svg', container: element as never, hover: true });
    await next.runAsync();
    view?.finalize();
    view = next;
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
