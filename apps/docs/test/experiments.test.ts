// Every experiment of the catalogue has a live page that trains its quick variant in a Web
// Worker through @tms/experiments (the code path of `tms run <name> --variant quick`), on
// wasm in Debian's headless Chromium. Each run must end without errors, draw the figures its
// experiment returns and meet the same headline claim as the CLI test.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { experiments, type ExperimentName } from '@tms/experiments';
import { HEADLINE_CLAIMS } from '../../../packages/experiments/test/headlines.js';
import { CHROMIUM, CHROMIUM_ARGS, ensureChromium } from './chromium.js';
import { serveStatic } from './serve.js';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'docs', '.vitepress', 'dist');
const artifacts = join(root, 'test-artifacts');

let browser: Browser;
let site: { url: string; close: () => Promise<void> };

beforeAll(async () => {
  if (!existsSync(join(dist, 'index.html'))) throw new Error(`${dist} is missing: run \`pnpm --filter docs build\` first`);
  ensureChromium();
  mkdirSync(artifacts, { recursive: true });
  site = await serveStatic(dist);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

describe('every experiment trains live in the browser and meets its headline claim', () => {
  for (const name of Object.keys(experiments) as ExperimentName[]) {
    it(name, async () => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      page.on('console', (m) => {
        if (m.type() === 'error') errors.push(m.text());
      });
      await page.goto(`${site.url}/experiments/${name}?autostart=1`);
      await page.waitForSelector('.tms-experiment[data-status="done"], .tms-experiment[data-status="error"]', { timeout: 600_000 });
      const d = await page.$eval('.tms-experiment', (el) => ({ ...(el as HTMLElement).dataset }));
      await page.screenshot({ path: join(artifacts, `experiment-${name}.png`), fullPage: true });
      expect(errors).toEqual([]);
      expect(d.status).toBe('done');
      expect(d.backend).toBe('wasm');
      // every figure the experiment returns is drawn as an SVG with marks
      expect(Number(d.figures)).toBeGreaterThanOrEqual(1);
      const drawn = await page.$$eval('.tms-experiment-figure', (els) => els.map((el) => el.querySelectorAll('svg path, svg line, svg rect').length));
      expect(drawn).toHaveLength(Number(d.figures));
      for (const marks of drawn) expect(marks).toBeGreaterThan(3);
      HEADLINE_CLAIMS[name](JSON.parse(d.headline ?? '{}'));
      await page.close();
    });
  }
});
