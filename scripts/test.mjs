#!/usr/bin/env node
// Runs every package's tests through turbo (building what they need first), then
// sums the per-package vitest JSON reports into one closing line:
//   "tests: N passed, N failed, N skipped"
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const dirs = ['packages', 'apps'].flatMap((d) =>
  existsSync(join(root, d)) ? readdirSync(join(root, d)).map((p) => join(root, d, p)) : [],
);
for (const d of dirs) rmSync(join(d, '.vitest-report.json'), { force: true });

const args = ['turbo', 'run', 'test', '--concurrency=1', ...process.argv.slice(2)];
const run = spawnSync('pnpm', ['exec', ...args], {
  stdio: 'inherit',
  cwd: root,
  env: { TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1', ...process.env },
});

let passed = 0;
let failed = 0;
let skipped = 0;
const rows = [];
for (const d of dirs) {
  const f = join(d, '.vitest-report.json');
  if (!existsSync(f)) continue;
  const r = JSON.parse(readFileSync(f, 'utf8'));
  const p = r.numPassedTests ?? 0;
  // a test file that fails to load has no failed tests but must count as a failure
  const brokenFiles = (r.testResults ?? []).filter((f) => f.status === 'failed' && !(f.assertionResults ?? []).length).length;
  const x = (r.numFailedTests ?? 0) + brokenFiles;
  const s = (r.numPendingTests ?? 0) + (r.numTodoTests ?? 0);
  passed += p;
  failed += x;
  skipped += s;
  rows.push(`  ${d.slice(root.length).padEnd(28)} ${p} passed, ${x} failed${s ? `, ${s} skipped` : ''}`);
}
console.log('\nTest summary by package:\n' + rows.join('\n'));
const code = run.status ?? 1;
if (code !== 0 && failed === 0) failed = 1; // a crash outside any test still counts as a failure
console.log(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(code);
