// Bundle hygiene of a browser app built on the packages: what loads at once and what only when used.
// Measured with esbuild (ESM, code splitting, minified) from this app's dependencies.
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

/** Bytes (raw and gzip) of the chunks a page loads at once, and of those it loads lazily (dynamic import()). */
async function bundle(code: string) {
  const out = '/virtual-out';
  const r = await build({
    stdin: { contents: code, resolveDir: new URL('..', import.meta.url).pathname, loader: 'js' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'browser',
    minify: true,
    write: false,
    outdir: out,
    metafile: true,
    logLevel: 'error',
  });
  const outputs = (r.metafile as Metafile).outputs;
  const key = (path: string) => Object.keys(outputs).find((k) => path.endsWith(k.split('/').pop()!))!;
  const entry = Object.keys(outputs).find((k) => outputs[k].entryPoint)!;
  // the entry and everything it imports statically
  const initial = new Set([entry]);
  for (const stack = [entry]; stack.length; ) {
    for (const i of outputs[stack.pop()!].imports) if (i.kind === 'import-statement' && !initial.has(i.path)) initial.add(i.path) && stack.push(i.path);
  }
  const sizes = { initial: { raw: 0, gzip: 0, inputs: [] as string[] }, lazy: { raw: 0, gzip: 0, inputs: [] as string[] } };
  for (const f of r.outputFiles) {
    if (!f.path.endsWith('.js')) continue;
    const k = key(f.path);
    const part = initial.has(k) ? sizes.initial : sizes.lazy;
    part.raw += f.contents.length;
    part.gzip += gzipSync(f.contents).length;
    part.inputs.push(...Object.keys(outputs[k].inputs));
  }
  return sizes;
}

const KB = 1024;

describe('browser bundle of @tms/core + @tms/backend-web + @tms/viz', () => {
  it('loads at most 100 KB gzip at once; every tfjs backend and Vega load only when used', async () => {
    const b = await bundle("export { useWebBackend } from '@tms/backend-web'; export { createModel, train } from '@tms/core'; export { lineChartSpec, renderInto } from '@tms/viz';");
    // measured 2026-11-26: 90 KB gzip (300 KB minified) at once; 499 KB gzip lazily
    expect(b.initial.gzip).toBeLessThanOrEqual(100 * KB);
    expect(b.initial.inputs.filter((p) => /tfjs-backend-(cpu|wasm|webgl|webgpu)|vega/.test(p))).toEqual([]);
    for (const lazy of ['tfjs-backend-wasm', 'tfjs-backend-webgl', 'tfjs-backend-webgpu', 'tfjs-backend-cpu', 'vega-lite']) {
      expect(b.lazy.inputs.some((p) => p.includes(lazy)), lazy).toBe(true);
    }
  });

  it('a page that only draws figures loads almost nothing until it renders', async () => {
    const b = await bundle("export { lineChartSpec, renderInto } from '@tms/viz';");
    expect(b.initial.gzip).toBeLessThanOrEqual(4 * KB);
    expect(b.initial.inputs.some((p) => p.includes('tfjs'))).toBe(false);
  });
});

describe('@tms/core/safetensors', () => {
  it('reads and writes weight files without pulling tfjs (a few KB instead of 214 KB from the package root)', async () => {
    const alone = await bundle("export { encodeSafetensors, decodeSafetensors } from '@tms/core/safetensors';");
    expect(alone.initial.inputs.some((p) => p.includes('tfjs'))).toBe(false);
    expect(alone.initial.gzip).toBeLessThanOrEqual(4 * KB);
    const root = await bundle("export { encodeSafetensors } from '@tms/core';");
    expect(root.initial.gzip).toBeGreaterThan(10 * alone.initial.gzip);
  });
});

