#!/usr/bin/env node
// Renders the SVG figures of finished runs to the PNGs the README shows:
// results/<experiment>/<stem>.svg → docs/figures/<stem>.png, with headless Chromium
// (Debian's `chromium`). Usage: node scripts/figures.mjs [results-dir] [stem ...]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = new URL('..', import.meta.url).pathname;

/**
 * Screenshot one SVG file to a PNG of its own size with headless Chromium, on `background`
 * (RRGGBBAA; white by default). Returns whether Chromium succeeded.
 */
export function svgToPng(svgFile, png, background = 'ffffffff') {
  const chromium = process.env.TMS_CHROMIUM ?? '/usr/bin/chromium';
  if (!existsSync(chromium)) throw new Error(`${chromium} is missing: apt-get install -y chromium`);
  const svg = readFileSync(svgFile, 'utf8');
  const w = Math.ceil(Number(/width="([\d.]+)"/.exec(svg)?.[1] ?? 800));
  const h = Math.ceil(Number(/height="([\d.]+)"/.exec(svg)?.[1] ?? 600));
  const r = spawnSync(
    chromium,
    ['--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', `--default-background-color=${background}`, `--window-size=${w},${h}`, `--screenshot=${png}`, pathToFileURL(resolve(svgFile)).href],
    { stdio: 'ignore' },
  );
  console.log(`${r.status === 0 ? 'wrote' : 'FAILED'} ${png} (${w}×${h})`);
  return r.status === 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const [dir = join(root, 'results'), ...only] = process.argv.slice(2);
  for (const exp of readdirSync(dir)) {
    const folder = join(dir, exp);
    if (!existsSync(join(folder, 'results.json'))) continue;
    for (const file of readdirSync(folder).filter((f) => f.endsWith('.svg'))) {
      const stem = file.slice(0, -4);
      if (only.length && !only.includes(stem)) continue;
      svgToPng(join(folder, file), join(root, 'docs', 'figures', `${stem}.png`));
    }
  }
}
