#!/usr/bin/env node
// The docs site's "Result" section of each experiment page. Runs `tms run <name>` on its
// defaults (seed 0) into results/site/<name>, then keeps in apps/docs/default-runs/<name>/ what the
// page shows: summary.json (command, date, machine, wall time, the resolved config and the
// headline numbers the paper's claims are checked on) and every figure of the run in the light
// and the dark theme, as PNGs drawn by headless Chromium like the README's. The docs build
// (apps/docs/scripts/prepare.mjs) evaluates the claims on these numbers with the claims of the
// day, so each page's `tms check` status follows the code.
// Usage: node scripts/site-results.mjs [experiment ...] [--no-run]   (--no-run: reuse results/site)
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { svgToPng } from './figures.mjs';
const root = new URL('..', import.meta.url).pathname;
// the built packages, by path: the repository root does not depend on them
const { experiments } = await import(join(root, 'packages', 'experiments', 'dist', 'index.js'));
const { renderSvg, themed } = await import(join(root, 'packages', 'viz', 'dist', 'index.js'));
const bin = join(root, 'packages', 'cli', 'dist', 'bin.js');
const args = process.argv.slice(2);
const noRun = args.includes('--no-run');
const names = args.filter((a) => !a.startsWith('--'));
for (const n of names) if (!experiments[n]) throw new Error(`unknown experiment "${n}"; allowed: ${Object.keys(experiments).join(', ')}`);

/** Write a file whole or not at all. */
function writeAtomic(path, text) {
  writeFileSync(`${path}.tmp`, text);
  renameSync(`${path}.tmp`, path);
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.versions.node}`;
for (const name of names.length ? names : Object.keys(experiments)) {
  const exp = experiments[name];
  const run = join(root, 'results', 'site', name);
  let seconds;
  if (!noRun) {
    console.error(`\n== tms run ${name} --restart`);
    const t0 = performance.now();
    const r = spawnSync(process.execPath, [bin, 'run', name, '--out', run, '--restart'], { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`tms run ${name} exited with ${r.status}`);
    seconds = Math.round((performance.now() - t0) / 100) / 10;
  }
  const results = JSON.parse(readFileSync(join(run, 'results.json'), 'utf8'));
  const out = join(root, 'apps', 'docs', 'default-runs', name);
  const previous = existsSync(join(out, 'summary.json')) ? JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) : undefined;
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const figures = [];
  // the figure named after the experiment first, then the others by name
  const order = (f) => (f === `${name}.vl.json` ? '' : f);
  for (const file of readdirSync(run).filter((f) => f.endsWith('.vl.json')).sort((a, b) => order(a).localeCompare(order(b)))) {
    const stem = file.slice(0, -'.vl.json'.length);
    const spec = JSON.parse(readFileSync(join(run, file), 'utf8'));
    for (const theme of ['light', 'dark']) {
      // the page's background under the dark theme's transparent one: VitePress's dark --vp-c-bg
      const svg = join(run, `${stem}.${theme}.svg`);
      writeFileSync(svg, await renderSvg(themed(spec, theme)));
      if (!svgToPng(svg, join(out, `${stem}.${theme}.png`), theme === 'dark' ? '1b1b1fff' : 'ffffffff')) throw new Error(`chromium could not draw ${svg}`);
    }
    figures.push(stem);
  }
  const summary = {
    experiment: name,
    command: `pnpm tms run ${name}`,
    date: noRun && previous ? previous.date : new Date().toISOString().slice(0, 10),
    machine: noRun && previous ? previous.machine : machine,
    seconds: seconds ?? previous?.seconds ?? null,
    seed: results.seed,
    backend: results.backend?.name ?? results.backend,
    config: results.config,
    headline: exp.headline ? exp.headline(results) : {},
    figures,
  };
  writeAtomic(join(out, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
  console.error(`${name}: ${figures.length} figures, ${Object.keys(summary.headline).length} headline numbers → ${out}`);
}
