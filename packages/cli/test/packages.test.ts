// Publishability of every @tms package: what `npm publish` would ship and what users see.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { publint } from 'publint';
import { beforeAll, describe, expect, it } from 'vitest';
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

describe('publint --strict and attw on the packed tarballs', () => {
  const dest = mkdtempSync(join(tmpdir(), 'tms-pack-'));
  const tarball = (dir: string) => join(dest, `tms-${dir}-0.0.0.tgz`);

  beforeAll(() => {
    for (const dir of packages) {
      const cwd = join(root, 'packages', dir);
      // what `prepack` does, only where the build is missing; then pack without running it again
      if (!existsSync(join(cwd, 'dist'))) execFileSync('pnpm', ['run', 'build'], { cwd, stdio: 'pipe' });
      execFileSync('pnpm', ['pack', '--pack-destination', dest], { cwd, stdio: 'pipe', env: { ...process.env, npm_config_ignore_scripts: 'true' } });
    }
  }, 300_000);

  it.each(packages)('%s: publint --strict finds nothing', async (dir) => {
    const data = readFileSync(tarball(dir));
    const { messages } = await publint({ pack: { tarball: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) }, strict: true });
    expect(messages.map((m) => `${m.type} ${m.code} ${JSON.stringify(m.args)}`)).toEqual([]);
  });

  it.each(packages)('%s: attw resolves its types in node10, node16 (CJS and ESM) and bundlers', (dir) => {
    // engine-fused/web-worker is a worker script, loaded by URL, not imported: it has no types
    const run = spawnSync('pnpm', ['exec', 'attw', tarball(dir), '--format', 'json', '--exclude-entrypoints', 'web-worker'], { cwd: root, encoding: 'utf8' });
    const report = JSON.parse(run.stdout) as { analysis: { problems?: unknown[]; entrypoints?: Record<string, unknown> } };
    expect(Object.keys(report.analysis.entrypoints ?? {}).length).toBeGreaterThan(0);
    expect(report.analysis.problems ?? []).toEqual([]);
    expect(run.status).toBe(0);
  });

  it('the check has teeth: publint reports an entry point that is not in the package', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tms-publint-'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'broken', version: '1.0.0', type: 'module', exports: { '.': './dist/missing.js' } }));
    const { messages } = await publint({ pkgDir: dir, pack: false, strict: true });
    expect(messages.map((m) => m.code)).toContain('FILE_DOES_NOT_EXIST');
  });
});
