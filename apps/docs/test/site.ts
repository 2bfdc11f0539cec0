import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { chromium, type Browser } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, ensureChromium } from './chromium.js';
import { serveStatic } from './serve.js';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'docs', '.vitepress', 'dist');

/** Where the browser tests save their screenshots. */
export const artifacts = join(root, 'test-artifacts');

/**
 * The built site served on 127.0.0.1 and Debian's headless Chromium, for the
 * tests of one file: started before them, closed after them.
 */
export function useBuiltSite(): { readonly browser: Browser; readonly url: string } {
  let browser: Browser | undefined;
  let site: { url: string; close: () => Promise<void> } | undefined;
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
  return {
    get browser() {
      return browser!;
    },
    get url() {
      return site!.url;
    },
  };
}
