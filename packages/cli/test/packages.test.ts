// Publishability of every @tms package: what `npm publish` would ship and what users see.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../src/index.js';

const root = new URL('../../../', import.meta.url).pathname;
const packages = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));
const read = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('packages are publishable as they are', () => {
  it.each(packages)('%s: MIT with its LICENSE shipped, built before packing, engines and side effects declared', (dir) => {
    const pkg = read(join(root, 'packages', dir, 'package.json'));
    expect(pkg.name).toBe(`@tms/${dir}`);
    expect(pkg.private).toBeUndefined();
    expect(pkg.license).toBe('MIT');
    expect(readFileSync(join(root, 'packages', dir, 'LICENSE'), 'utf8')).toBe(readFileSync(join(root, 'LICENSE'), 'utf8'));
    expect(pkg.files).toEqual(expect.arrayContaining(['dist', 'README.md', 'LICENSE', 'CHANGELOG.md']));
    // `pnpm pack` of an unbuilt package would ship package.json and a README only
    expect(pkg.scripts.prepack).toBe('pnpm run build');
    expect(pkg.engines).toEqual({ node: '>=20' });
    // false, or the files with side effects (core registers tfjs gradients; the cli's bin runs)
    expect(pkg.sideEffects === false || (Array.isArray(pkg.sideEffects) && pkg.sideEffects.every((f: string) => f.startsWith('./dist/')))).toBe(true);
    expect(existsSync(join(root, 'packages', dir, 'README.md'))).toBe(true);
  });

  it('versions only the public packages, all together, so the first release is 0.1.0', () => {
    const config = read(join(root, '.changeset', 'config.json'));
    expect(config.privatePackages).toEqual({ version: false, tag: false });
    expect(config.ignore).toEqual(expect.arrayContaining(['docs', 'bench']));
    expect(config.linked).toEqual([['@tms/*']]);
    const versions = new Set(packages.map((d) => read(join(root, 'packages', d, 'package.json')).version));
    expect([...versions]).toEqual(['0.0.0']);
    // a minor changeset takes 0.0.0 to 0.1.0
    const changesets = readdirSync(join(root, '.changeset')).filter((f) => f.endsWith('.md') && f !== 'README.md');
    expect(changesets.some((f) => /: minor$/m.test(readFileSync(join(root, '.changeset', f), 'utf8')))).toBe(true);
  });

  it('tms --version prints the version of @tms/cli', async () => {
    const out: string[] = [];
    expect(await main(['--version'], { out: (s) => out.push(s), err: (s) => out.push(s) })).toBe(0);
    expect(out).toEqual([`tms ${read(join(root, 'packages', 'cli', 'package.json')).version}`]);
  });
});
