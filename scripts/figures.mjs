#!/usr/bin/env node
// Renders the SVG figures of finished runs to the PNGs the README shows:
// results/<experiment>/<stem>.svg → docs/figures/<stem>.png, with headless Chromium
// (Debian's `chromium`). Usage: node scripts/figures.mjs [results-dir] [stem ...]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const [dir = join(root, 'results'), ...only] = process.argv.slice(2);
const chromium = process.env.TMS_CHROMIUM ?? '/usr/bin/chromium';
if (!existsSync(chromium)) throw new Error(`${chromium} is missing: apt-get install -y chromium`);
for (const exp of readdirSync(dir)) {
  const folder = join(dir, exp);
  if (!existsSync(join(folder, 'results.json'))) continue;
  for (const file of readdirSync(folder).filter((f) => f.endsWith('.svg'))) {
    const stem = file.slice(0, -4);
    if (only.length && !only.includes(stem)) continue;
    const svg = readFileSync(join(folder, file), 'utf8');
    const w = Math.ceil(Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 800));
    const h = Math.ceil(Number(/height="([\d.]+)"/.exec(svg)?.[1] ?? 600));
    const out = join(root, 'docs', 'figures', `${stem}.png`);
    const r = spawnSync(
      chromium,
      ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--default-background-color=ffffffff', `--window-size=${w},${h}`, `--screenshot=${out}`, `file://${resolve(folder, file)}`],
      { stdio: 'ignore' },
    );
    console.log(`${r.status === 0 ? 'wrote' : 'FAILED'} ${out} (${w}×${h})`);
  }
}
