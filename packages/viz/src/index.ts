/**
 * `@tms/viz`: every figure of "Toy Models of Superposition" as a Vega-Lite spec,
 * rendered to SVG in Node or displayed live in a browser.
 *
 * @example
 * ```ts
 * import { introFigureSpec, renderSvg } from '@tms/viz';
 * const svg = await renderSvg(introFigureSpec(panels));
 * ```
 *
 * @packageDocumentation
 */
export {
  COLORS,
  biasColumn,
  featureNormBars,
  gridHeatmapSpec,
  interferenceHeatmap,
  introFigureSpec,
  FEATURE_HOVER,
  lossCurveSpec,
  lineChartSpec,
  featureDirectionsSpec,
  phaseDiagramSpec,
  lossSurfaceSpec,
  dimensionalitySpec,
  neuronWeightsSpec,
  seedSpreadSpec,
  type DimensionalityData,
  type DirectionsPanel,
  type GridCell,
  type LineChartOptions,
  type LineSeries,
  type NeuronPanel,
  type PhaseCell,
  type LossSurfacePanel,
  type IntroPanel,
  type PanelOptions,
  type SeedRow,
  type VegaLiteSpec,
} from './specs.js';
export { DARK_CONFIG, panelsPerRow, renderInto, renderSvg, themed, wrapColumns, type ElementLike, type MountedFigure, type RenderOptions } from './render.js';
