// Figures fit the page: at a 390 px phone width and at 1280 px, live figures (an experiment's
// and the widest demo's, the intro figure at 985 px) wrap their small multiples into the column
// or are scaled down to it, and the page never scrolls sideways; in dark mode they draw light
// text on a transparent background.
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { artifacts, useBuiltSite } from './site.js';

const site = useBuiltSite();

/** Each live figure's drawn width, its natural width and its column's width, and the page's overflow. */
async function measure(page: Page, figures: string) {
  return page.evaluate((sel) => {
    const svgs = [...document.querySelectorAll<SVGSVGElement>(`${sel} svg`)];
    return {
      pageOverflow: document.documentElement.scrollWidth - window.innerWidth,
      figures: svgs.map((svg) => ({
        drawn: svg.getBoundingClientRect().width,
        natural: Number(svg.getAttribute('width')),
        column: (svg.parentElement as HTMLElement).clientWidth,
      })),
    };
  }, figures);
}

describe('figures fit any width and follow dark mode', () => {
  for (const width of [390, 1280]) {
    it(`at ${width} px: experiment and demo figures fit their column, the page does not scroll sideways`, async () => {
      const page = await site.browser.newPage({ viewport: { width, height: 900 } });
      await page.goto(`${site.url}/experiments/dynamics?autostart=1`);
      await page.waitForSelector('.tms-experiment[data-status="done"]', { timeout: 120_000 });
      const exp = await measure(page, '.tms-experiment-figure');
      await page.goto(`${site.url}/demos/intro?backend=wasm&steps=100&autostart=1`);
      await page.waitForSelector('.tms-demo[data-status="done"]', { timeout: 120_000 });
      const demo = await measure(page, '.tms-figure');
      await page.screenshot({ path: join(artifacts, `layout-intro-${width}.png`), fullPage: true });
      for (const m of [exp, demo]) {
        expect(m.pageOverflow).toBeLessThanOrEqual(0);
        expect(m.figures.length).toBeGreaterThanOrEqual(1);
        for (const f of m.figures) {
          expect(f.drawn).toBeLessThanOrEqual(f.column + 1);
          // scaled only when the column is narrower: never blown up
          expect(f.drawn).toBeLessThanOrEqual(f.natural + 1);
          if (f.natural <= f.column) expect(f.drawn).toBeCloseTo(f.natural, 0);
        }
      }
      // the intro figure (985 px as one row of 7 panels per model) wraps its panels into rows that
      // fit the column at both widths, at full size, each of its 2 × 7 panels drawn once
      expect(demo.figures[0].natural).toBeLessThan(900);
      expect(demo.figures[0].natural).toBeLessThanOrEqual(demo.figures[0].column);
      expect(demo.figures[0].drawn).toBeCloseTo(demo.figures[0].natural, 0);
      const titles = await page.$$eval('.tms-figure svg text', (ts) => ts.map((t) => t.textContent ?? '').filter((t) => /^1−S = /.test(t)));
      expect(titles).toHaveLength(14);
      if (width === 390) for (const f of exp.figures) expect(f.drawn).toBeLessThan(f.natural);
      await page.close();
    });
  }

  it('dark mode: light labels on a transparent background', async () => {
    const page = await site.browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.addInitScript(() => localStorage.setItem('vitepress-theme-appearance', 'dark'));
    await page.goto(`${site.url}/experiments/dynamics?autostart=1`);
    await page.waitForSelector('.tms-experiment[data-status="done"]', { timeout: 120_000 });
    const look = await page.evaluate(() => {
      const svg = document.querySelector('.tms-experiment-figure svg')!;
      // axis labels and titles, legend labels, chart titles (marks with colours of their own keep them)
      const roles = ['role-axis-label', 'role-axis-title', 'role-legend-label', 'role-title-text'];
      const labels = roles.flatMap((r) => [...svg.querySelectorAll(`.${r} text`)].map((t) => getComputedStyle(t).fill));
      const background = [...svg.querySelectorAll('rect, path')].filter((r) => (r.getAttribute('class') ?? '').includes('background')).map((r) => r.getAttribute('fill'));
      return { dark: document.documentElement.classList.contains('dark'), labels, background };
    });
    await page.screenshot({ path: join(artifacts, 'layout-dynamics-dark.png'), fullPage: false });
    expect(look.dark).toBe(true);
    // every one is a light grey (each channel ≥ 180), none the default black
    expect(look.labels.length).toBeGreaterThan(10);
    for (const fill of look.labels) {
      const rgb = fill.match(/\d+/g)!.map(Number);
      expect(Math.min(...rgb.slice(0, 3)), fill).toBeGreaterThanOrEqual(180);
    }
    for (const fill of look.background) expect(fill === null || fill === 'transparent' || fill === 'none').toBe(true);
    // the Train buttons (experiment run, demo) read at WCAG AA (4.5:1) in dark mode too; the demo's
    // was white on the dark theme's light brand colour, 2:1
    const contrast = (selector: string) =>
      page.$eval(selector, (el) => {
        const rgb = (c: string) => c.match(/\d+(\.\d+)?/g)!.slice(0, 3).map(Number);
        const lum = ([r, g, b]: number[]) => {
          const ch = (v: number) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4);
          return 0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b);
        };
        const s = getComputedStyle(el);
        const [a, b] = [lum(rgb(s.color)), lum(rgb(s.backgroundColor))].sort((x, y) => y - x);
        return (a + 0.05) / (b + 0.05);
      });
    expect(await contrast('.tms-train')).toBeGreaterThanOrEqual(4.5);
    // the default run's static figures switch to their dark PNGs
    const shown = await page.$$eval('img.tms-result', (imgs) => imgs.filter((i) => i.getBoundingClientRect().width > 0).map((i) => i.getAttribute('src') ?? ''));
    expect(shown.length).toBeGreaterThanOrEqual(1);
    for (const src of shown) expect(src).toMatch(/\.dark\.png$/);
    await page.goto(`${site.url}/demos/intro-2d?backend=wasm`);
    await page.waitForSelector('.tms-demo[data-status="done"]', { timeout: 120_000 });
    expect(await page.evaluate(() => document.documentElement.classList.contains('dark'))).toBe(true);
    expect(await contrast('.tms-controls .tms-train')).toBeGreaterThanOrEqual(4.5);
    await page.close();
  });
});
