import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian's Chromium, the browser the tests drive. */
export const CHROMIUM = process.env.TMS_CHROMIUM ?? '/usr/bin/chromium';

/** Flags that give WebGPU on the software (SwiftShader) adapter in headless Chromium. */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--enable-unsafe-webgpu',
  '--enable-unsafe-swiftshader',
];

/**
 * Make sure Chromium is installed: when it is missing and we are root, install
 * Debian's package with apt-get (the test setup installs its own browser).
 */
export function ensureChromium(): void {
  if (existsSync(CHROMIUM)) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`${CHROMIUM} is missing and this is not root: install it with \`apt-get install -y chromium\``);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'inherit', env });
    r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'chromium'], { stdio: 'inherit', env });
  }
  if (r.status !== 0 || !existsSync(CHROMIUM)) throw new Error('could not install chromium with apt-get');
}
