#!/usr/bin/env node
// The main job: reproduce the paper's headline figures with the CPU-sized
// defaults of each experiment, into results/<experiment>/, then check the
// paper's claims on them (`tms check results`).
// Usage: node scripts/reproduce.mjs [experiment ...] [-- extra tms run flags]
import { spawnSync } from 'node:child_process';

const HEADLINE = ['intro', 'intro-2d', 'phase', 'geometry'];
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const names = (dash >= 0 ? argv.slice(0, dash) : argv).filter(Boolean);
const extra = dash >= 0 ? argv.slice(dash + 1) : [];
const bin = new URL('../packages/cli/dist/bin.js', import.meta.url).pathname;
for (const name of names.length ? names : HEADLINE) {
  console.error(`\n== tms run ${name}`);
  const r = spawnSync(process.execPath, [bin, 'run', name, '--out', `results/${name}`, ...extra], { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
console.error('\nresults in results/: results.json, weights.safetensors and the figures (.svg, .vl.json) of each experiment');
// the paper's claims on what was just written (exit 1 if one fails)
console.error('\n== tms check results');
const check = spawnSync(process.execPath, [bin, 'check', 'results'], { stdio: 'inherit' });
process.exit(check.status ?? 1);
