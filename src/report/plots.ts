/**
 * Plots of the report: Vega-Lite specs compiled to Vega, rendered headless to SVG (a `vega.View`
 * with renderer 'none', then `toSVG()`), and rasterised to PNG with resvg. Library choice:
 * vega/vega-lite 5 (the last CommonJS builds; 6.x is ESM-only and needs Node 22) and
 * @resvg/resvg-js (Rust resvg through napi, prebuilt per platform, no system Cairo).
 */
import type * as resvgModule from '@resvg/resvg-js';
import type * as vegaModule from 'vega';
import type * as vl from 'vega-lite';

import { writeFileAtomic } from '../common/files';
import type { Grid } from './tables';

/** Lengths on a log2 axis are labelled 4k, 8k, ... */
const LENGTH_LABEL = "datum.value >= 1024 ? format(datum.value / 1024, '~g') + 'k' : format(datum.value, '~g')";

function points(grid: Grid<number>, value: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const method of grid.methods) {
    for (const [length, v] of grid.cells.get(method)!) if (Number.isFinite(v)) out.push({ method, length, [value]: v });
  }
  return out;
}

const base = (title: string) => ({
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title,
  width: 480,
  height: 300,
  background: 'white',
  config: { font: 'DejaVu Sans, Helvetica, Arial, sans-serif' },
});

const xLength = (values: number[]) => ({
  field: 'length',
  type: 'quantitative' as const,
  title: 'context length (tokens)',
  scale: { type: 'log' as const, base: 2 },
  axis: { values, labelExpr: LENGTH_LABEL },
});

/** Perplexity vs length, log-scale y, one line per method; `methods` fixes the colour order
 *  (pass the same list to every plot of a report so a method keeps its colour). */
export function pplPlotSpec(grid: Grid<number>, methods: string[] = grid.methods): vl.TopLevelSpec {
  return {
    ...base('Perplexity vs context length'),
    data: { values: points(grid, 'ppl') },
    mark: { type: 'line', point: true },
    encoding: {
      x: xLength(grid.columns),
      y: { field: 'ppl', type: 'quantitative', title: 'perplexity (log scale)', scale: { type: 'log' } },
      color: { field: 'method', type: 'nominal', title: 'method', scale: { domain: methods } },
    },
  } as vl.TopLevelSpec;
}

/** Passkey accuracy vs length, one line per method (colours as {@link pplPlotSpec}). */
export function passkeyPlotSpec(grid: Grid<number>, methods: string[] = grid.methods): vl.TopLevelSpec {
  return {
    ...base('Passkey retrieval accuracy'),
    data: { values: points(grid, 'accuracy') },
    mark: { type: 'line', point: true },
    encoding: {
      x: xLength(grid.columns),
      y: { field: 'accuracy', type: 'quantitative', title: 'accuracy', scale: { domain: [0, 1] }, axis: { format: '%' } },
      color: { field: 'method', type: 'nominal', title: 'method', scale: { domain: methods } },
    },
  } as vl.TopLevelSpec;
}

// vega, vega-lite and resvg take ~1 s to load: required on first use, not when the library or
// the CLI starts (`longrope --help` and `require('longrope')` never draw a plot).
const lazyVega = () => require('vega') as typeof vegaModule;
const lazyVegaLite = () => require('vega-lite') as typeof vl;
const lazyResvg = () => require('@resvg/resvg-js') as typeof resvgModule;

/** Renders a Vega-Lite spec to an SVG string without a browser. */
export async function renderSvg(spec: vl.TopLevelSpec): Promise<string> {
  const vega = lazyVega();
  const view = new vega.View(vega.parse(lazyVegaLite().compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** Rasterises an SVG to PNG (2x zoom) with the system's fonts (DejaVu Sans for generic families). */
export function svgToPng(svg: string, options: { zoom?: number; fontFamily?: string } = {}): Buffer {
  const family = options.fontFamily ?? 'DejaVu Sans';
  const resvg = new (lazyResvg().Resvg)(svg, {
    fitTo: { mode: 'zoom', value: options.zoom ?? 2 },
    font: { loadSystemFonts: true, defaultFontFamily: family, sansSerifFamily: family },
  });
  return resvg.render().asPng();
}

/** Renders `spec` and writes it as `<stem>.svg` and `<stem>.png` (atomically); returns both paths. */
export async function writeFigure(spec: vl.TopLevelSpec, stem: string): Promise<[string, string]> {
  const svg = await renderSvg(spec);
  const svgPath = `${stem}.svg`, pngPath = `${stem}.png`;
  writeFileAtomic(svgPath, svg);
  writeFileAtomic(pngPath, svgToPng(svg));
  return [svgPath, pngPath];
}
