// Every experiment of the catalogue has a live page that trains its quick variant in a Web
// Worker through @tms/experiments (the code path of `tms run <name> --variant quick`), on
// wasm in Debian's headless Chromium, with the fused engine on one Web Worker per core. Each
// run must end without errors, draw the figures its experiment returns and meet the same
// headline claim as the CLI test.
import { describe, expect, it } from 'vitest';
import { CLAIMS, experiments, type ExperimentName } from '@tms/experiments';
import { HEADLINE_CLAIMS } from '../../../packages/experiments/test/headlines.js';
import { join } from 'node:path';
import { artifacts, useBuiltSite } from './site.js';

const site = useBuiltSite();

describe('every experiment trains live in the browser and meets its headline claim', () => {
  for (const name of Object.keys(experiments) as ExperimentName[]) {
    it(name, async () => {
      const page = await site.browser.newPage({ viewport: { width: 1280, height: 900 } });
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
      // the page lists the claims tms check evaluates, and shows the figure of the run it documents
      const rows = await page.$$eval('table tbody tr', (trs) => trs.map((tr) => tr.textContent ?? ''));
      const claims = CLAIMS.filter((c) => c.experiment === name);
      expect(rows.filter((r) => claims.some((c) => r.includes(c.statement.slice(0, 40)))).length).toBe(claims.length);
      // (the default run's figures: in light mode the light PNGs show, loaded, and the dark ones are hidden)
      const figures = await page.$$eval(`img.tms-result`, (imgs) =>
        imgs.map((i) => ({ src: i.getAttribute('src') ?? '', width: (i as HTMLImageElement).naturalWidth, shown: (i as HTMLImageElement).getBoundingClientRect().width > 0 })),
      );
      expect(figures.length).toBeGreaterThanOrEqual(2);
      for (const f of figures) {
        expect(f.src).toMatch(new RegExp(`/default-runs/${name}/[\\w-]+\\.(light|dark)\\.png$`));
        expect(f.width).toBeGreaterThan(100);
        expect(f.shown).toBe(f.src.endsWith('.light.png'));
      }
      // the tied models of the sparsity sweeps train on one Web Worker per core
      const cores = await page.evaluate(() => navigator.hardwareConcurrency);
      expect(d.engines?.split(',').length).toBeGreaterThanOrEqual(1);
      if (name === 'intro' && cores > 1) expect(d.engines?.split(',')).toContain('fused-web-workers');
      await page.close();
    });
  }

  it('geometry: the paper variant starts on the fused WebGPU engine from its page', async () => {
    const page = await site.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${site.url}/experiments/geometry?autostart=paper-gpu`);
    expect(await page.locator('.tms-paper-gpu').count()).toBe(1);
    // (the whole run is a minute on a GPU and hours on this software adapter: watch it start)
    await page.waitForSelector('.tms-experiment[data-status="error"], .tms-experiment[data-backend="webgpu"][data-engines="webgpu"]', { timeout: 120_000 });
    const d = await page.$eval('.tms-experiment', (el) => ({ ...(el as HTMLElement).dataset, text: el.textContent ?? '' }));
    expect(errors).toEqual([]);
    expect(d.status, d.text).toBe('training');
    expect(d.variant).toBe('paper');
    expect(d.text).toMatch(/on google swiftshader/);
    await page.close();
  });
});
