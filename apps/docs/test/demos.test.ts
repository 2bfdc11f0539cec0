// Browser tests of the docs site: build output served on 127.0.0.1, each live demo
// opened in Debian's headless Chromium, trained on WebGPU (software adapter: the fused
// WebGPU engine) and on WASM (the fused CPU engine); the loss must fall and the figure
// must update. The WebGPU self-check page must find the GPU and CPU engines in agreement.
// Screenshots go to test-artifacts/.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { artifacts, useBuiltSite } from './site.js';

const site = useBuiltSite();

/** Steps per demo and backend: enough to see learning, few enough for the software GPU. */
const CASES: [string, 'webgpu' | 'wasm', number][] = [
  ['intro-2d', 'wasm', 300],
  ['intro-2d', 'webgpu', 200],
  ['intro', 'wasm', 300],
  ['intro', 'webgpu', 100],
  ['phase', 'wasm', 300],
  ['phase', 'webgpu', 100],
  ['geometry', 'wasm', 300],
  ['geometry', 'webgpu', 100],
];

describe('live demos train in the browser', () => {
  it('serves the site with the API reference', async () => {
    const page = await site.browser.newPage();
    const res = await page.goto(`${site.url}/api/core`);
    expect(res?.status()).toBe(200);
    expect(await page.textContent('h1')).toContain('@tms/core');
    expect(await page.content()).toContain('autodiffEngine');
    await page.goto(`${site.url}/api/engine-fused`);
    expect(await page.content()).toContain('FusedTiedTrainer');
    // TypeDoc: signatures with parameters, {@link}s resolved to anchors, no literal tags
    await page.goto(`${site.url}/api/analysis`);
    const signature = await page.locator('#reconstructionerrors + blockquote').textContent();
    expect(signature).toBe('reconstructionErrors(W, b, x, options?): number[][]');
    expect(await page.locator('a[href="#reconstructionerrors"]').count()).toBeGreaterThan(1);
    for (const p of ['core', 'data', 'analysis', 'experiments', 'cli']) {
      await page.goto(`${site.url}/api/${p}`);
      expect(await page.content()).not.toContain('{@link');
    }
    // local search finds an export and goes to its entry
    await page.goto(`${site.url}/`);
    await page.click('.VPNavBarSearch button');
    await page.fill('.VPLocalSearchBox input', 'reconstructionErrors');
    const hit = page.locator('.VPLocalSearchBox .result[href*="/api/analysis"]').first();
    await hit.waitFor({ timeout: 10_000 });
    expect(await hit.getAttribute('href')).toMatch(/\/api\/analysis(\.html)?#reconstructionerrors$/);
    // one guide page per experiment, with its config fields
    await page.goto(`${site.url}/experiments/phase`);
    expect(await page.content()).toContain('--density-max');
    // the cluster guide, linked from the sidebar
    expect(await page.locator('a[href$="/cluster"], a[href$="/cluster.html"]').count()).toBeGreaterThan(0);
    expect((await page.goto(`${site.url}/cluster`))?.status()).toBe(200);
    expect(await page.textContent('h1')).toContain('Sweeps on a cluster');
    expect(await page.content()).toContain('JOB_COMPLETION_INDEX');
    // the tutorial (its code runs in the examples test), linked from the sidebar
    expect(await page.locator('a[href$="/tutorial"], a[href$="/tutorial.html"]').count()).toBeGreaterThan(0);
    expect((await page.goto(`${site.url}/tutorial`))?.status()).toBe(200);
    expect(await page.textContent('h1')).toContain('your own pipeline');
    expect(await page.textContent('main')).toContain('class ExactlyK implements BatchSource');
    await page.close();
  });

  for (const [name, backend, steps] of CASES) {
    it(`${name} on ${backend}: loss falls and the figure updates`, async () => {
      const page = await site.browser.newPage({ viewport: { width: 1100, height: 900 } });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(`${site.url}/demos/${name}?backend=${backend}&steps=${steps}&autostart=1`);
      await page.waitForSelector('.tms-demo[data-status="done"], .tms-demo[data-status="error"]', { timeout: 240_000 });
      const d = await page.$eval('.tms-demo', (el) => ({ ...(el as HTMLElement).dataset }));
      await page.screenshot({ path: join(artifacts, `${name}-${backend}.png`), fullPage: true });
      expect(errors).toEqual([]);
      expect(d.status).toBe('done');
      expect(d.backend).toBe(backend);
      // on WASM the demo trains on Web Workers (the fused engine off the page's main thread)
      expect(d.engine).toBe(backend === 'wasm' ? 'fused-web-workers' : 'webgpu');
      expect(Number(d.step)).toBe(steps);
      expect(Number(d.lastLoss)).toBeLessThan(Number(d.firstLoss));
      expect(Number(d.updates)).toBeGreaterThanOrEqual(5);
      expect(Number(d.sps)).toBeGreaterThan(0);
      // the figure is an SVG drawn by vega with marks in it
      const marks = await page.$$eval('.tms-figure svg path, .tms-figure svg line', (els) => els.length);
      expect(marks).toBeGreaterThan(5);
      await page.close();
    });
  }

  it('the WebGPU self-check page: the GPU engine (Philox batches on the GPU) agrees with the CPU engine', async () => {
    const page = await site.browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(`${site.url}/engine-check?autostart=1`);
    await page.waitForSelector('.tms-engine-check[data-status="done"], .tms-engine-check[data-status="error"]', { timeout: 240_000 });
    const d = await page.$eval('.tms-engine-check', (el) => ({ ...(el as HTMLElement).dataset, text: el.textContent ?? '' }));
    await page.screenshot({ path: join(artifacts, 'engine-check.png'), fullPage: true });
    expect(errors).toEqual([]);
    expect(d.status, d.text).toBe('done');
    // every model, the two with a ReLU hidden layer included, trained on the GPU engine
    expect(d.engine).toBe('webgpu');
    expect(d.text).toMatch(/linear[\s\S]*relu-output[\s\S]*relu-hidden[\s\S]*abs/);
    expect(d.adapter).toMatch(/swiftshader/i);
    expect(Number(d.worst)).toBeLessThan(1e-4);
    expect(d.abort).toBe('true');
    expect(d.divergence).toBe('true');
    expect(d.passed).toBe('true');
    await page.close();
  });

  it('opens with a short first pass, a caption, a live loss curve, linked hover and a snapshot slider; a moved control marks the figure stale until retrained', async () => {
    const page = await site.browser.newPage({ viewport: { width: 1100, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    // no autostart: the page trains its first pass by itself
    await page.goto(`${site.url}/demos/intro?backend=wasm`);
    await page.waitForSelector('.tms-demo[data-status="done"]', { timeout: 120_000 });
    let d = await page.$eval('.tms-demo', (el) => ({ ...(el as HTMLElement).dataset }));
    expect(d.firstPass).toBe('true');
    expect(Number(d.step)).toBe(300);
    expect(Number(d.lastLoss)).toBeLessThan(Number(d.firstLoss));
    expect(await page.$$eval('.tms-figure svg path', (els) => els.length)).toBeGreaterThan(5);
    expect(await page.textContent('.tms-first-pass')).toContain('press Train for the full 2000 steps');
    expect(await page.textContent('.tms-caption')).toContain('WᵀW');
    // the loss curve: a line with a point per logged step
    expect(await page.$$eval('.tms-loss svg path', (els) => els.length)).toBeGreaterThan(0);
    expect(await page.textContent('.tms-loss')).toContain('Training loss');
    // the paper's contrast: a linear row above the ReLU-output row, 7 sparsities each
    expect(await page.textContent('.tms-figure')).toContain('Linear model');
    expect(await page.textContent('.tms-figure')).toContain('ReLU output model');
    // the CLI command of these settings, following the controls
    expect(await page.textContent('.tms-cli code')).toBe('pnpm tms run intro --importance-base 0.7 --steps 2000 --batch-size 512 --lr 0.01');
    // linked hover: pointing at feature 0's norm bar in one panel highlights feature 0 in all 14
    const normBars = '.tms-figure svg path[aria-label*="‖Wᵢ‖"]';
    expect(await page.locator(normBars).count()).toBe(14 * 20);
    // (vega's labels read "norm: …; i: 0; superposition: …; feature: 0; ‖Wᵢ‖: …")
    await page.locator(`${normBars}[aria-label*="; i: 0;"]`).first().hover();
    await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].some((el) => el.getAttribute('opacity') === '0.2'), normBars);
    const opacity = await page.$$eval(normBars, (els) => els.map((el) => ({ zero: (el.getAttribute('aria-label') ?? '').includes('; i: 0;'), opacity: Number(el.getAttribute('opacity') ?? 1) })));
    expect(opacity.filter((o) => o.zero).map((o) => o.opacity)).toEqual(Array(14).fill(1));
    expect(opacity.filter((o) => !o.zero).every((o) => o.opacity === 0.2)).toBe(true);
    await page.mouse.move(0, 0);
    // scrubbing back through the saved snapshots redraws the figure as it was
    const slider = page.locator('.tms-scrub input');
    expect(Number(await slider.getAttribute('data-snapshots'))).toBeGreaterThanOrEqual(5);
    const last = await page.$eval('.tms-figure svg', (el) => el.outerHTML);
    await slider.evaluate((el) => {
      (el as HTMLInputElement).value = '0';
      el.dispatchEvent(new Event('input', { bubbles: true }));
    });
    await page.waitForSelector('.tms-figure[data-shown-step="0"]');
    await page.waitForFunction((before) => document.querySelector('.tms-figure svg')?.outerHTML !== before, last);
    expect(await page.textContent('.tms-scrub')).toContain('training step 0');
    // a changed control marks the figure stale
    await page.fill('.tms-demo input[type="number"]', '400');
    await page.waitForSelector('.tms-demo[data-stale="true"]');
    expect(await page.textContent('.tms-cli code')).toContain('--steps 400 ');
    expect(await page.$eval('.tms-figure', (el) => el.classList.contains('tms-figure-stale'))).toBe(true);
    await page.screenshot({ path: join(artifacts, 'intro-first-pass-stale.png'), fullPage: true });
    // retraining clears it
    await page.click('.tms-train');
    await page.waitForSelector('.tms-demo[data-status="done"][data-first-pass="false"]', { timeout: 120_000 });
    d = await page.$eval('.tms-demo', (el) => ({ ...(el as HTMLElement).dataset }));
    expect(d.stale).toBe('false');
    expect(Number(d.step)).toBe(400);
    // a steps value out of range is refused with a sentence, not a raw ConfigError
    await page.fill('.tms-demo input[type="number"]', '5');
    await page.click('.tms-train');
    await page.waitForSelector('.tms-demo[data-status="error"]');
    expect(await page.textContent('.tms-error')).toBe('Steps must be a whole number from 10 to 200,000.');
    // Stop ends the run early and says so
    await page.fill('.tms-demo input[type="number"]', '200000');
    await page.click('.tms-train');
    await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('.tms-demo')?.dataset.step) > 0, undefined, { timeout: 60_000 });
    await page.click('.tms-stop');
    await page.waitForSelector('.tms-demo[data-status="done"][data-stopped="true"]', { timeout: 60_000 });
    expect(await page.textContent('.tms-stopped')).toMatch(/^Stopped at step \d+ of 200000/);
    expect(errors).toEqual([]);
    await page.close();
  });

  it('switches backend at run time on the same page', async () => {
    const page = await site.browser.newPage();
    await page.goto(`${site.url}/demos/intro-2d?backend=wasm&steps=50&autostart=1`);
    await page.waitForSelector('.tms-demo[data-status="done"]', { timeout: 120_000 });
    await page.selectOption('.tms-demo select', 'cpu');
    await page.click('.tms-train');
    await page.waitForSelector('.tms-demo[data-status="done"][data-backend="cpu"]', { timeout: 120_000 });
    expect(await page.$eval('.tms-demo', (el) => (el as HTMLElement).dataset.backend)).toBe('cpu');
    await page.close();
  });
});
