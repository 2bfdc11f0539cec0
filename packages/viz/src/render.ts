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
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
