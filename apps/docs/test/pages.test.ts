// Every page of the site, as a phone shows it: each page linked from the home page, the nav and
// the sidebar loads in Debian's headless Chromium at 390 px without a console error or an
// uncaught exception, and never scrolls sideways (wide tables and code scroll in their own box).
// Demo pages start their first pass on open; the experiment pages' static figures must load.
import { describe, expect, it } from 'vitest';
import { useBuiltSite } from './site.js';

const site = useBuiltSite();

describe('every page loads cleanly and fits a phone', () => {
  it('home, guides, demos, experiment pages and API reference at 390 px', async () => {
    // the links of the nav and of every sidebar section, read at desktop width
    const wide = await site.browser.newPage({ viewport: { width: 1280, height: 900 } });
    const links = new Set<string>(['/']);
    for (const start of ['/', '/getting-started', '/experiments/', '/api/']) {
      await wide.goto(`${site.url}${start}`);
      const hrefs = await wide.$$eval('.VPNav a[href^="/"], .VPSidebar a[href^="/"], .VPHome a[href^="/"]', (as) => as.map((a) => a.getAttribute('href') ?? ''));
      for (const h of hrefs) links.add(h.replace(/\.html$/, '').replace(/#.*$/, ''));
    }
    await wide.close();
    // guides, demos, every experiment and every package's API page
    expect(links.size).toBeGreaterThanOrEqual(30);
    for (const must of ['/tutorial', '/demos/intro', '/experiments/computation', '/api/core']) expect(links).toContain(must);

    const problems: string[] = [];
    const page = await site.browser.newPage({ viewport: { width: 390, height: 800 } });
    let current = '';
    page.on('pageerror', (e) => problems.push(`${current}: ${String(e)}`));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${current}: console: ${m.text()}`);
    });
    for (const link of [...links].sort()) {
      current = link;
      const res = await page.goto(`${site.url}${link}`, { waitUntil: 'load' });
      if (res?.status() !== 200) problems.push(`${link}: HTTP ${res?.status()}`);
      const look = await page.evaluate(() => ({
        overflow: document.documentElement.scrollWidth - window.innerWidth,
        // images that failed to load (naturalWidth 0 once complete), hidden ones of the other theme included
        broken: [...document.images].filter((i) => i.complete && i.naturalWidth === 0).map((i) => i.getAttribute('src')),
      }));
      if (look.overflow > 0) problems.push(`${link}: scrolls ${look.overflow} px sideways at 390 px`);
      if (look.broken.length) problems.push(`${link}: images that do not load: ${look.broken.join(', ')}`);
    }
    await page.close();
    expect(problems).toEqual([]);
  }, 600_000);
});
