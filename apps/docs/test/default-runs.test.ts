// Each experiment page shows the figures and numbers of the experiment's default run
// (default-runs/<name>/, written by the repository's `pnpm site-results`) and the `tms check`
// status of every claim on them. The run must be of today's defaults: a change of defaults
// without a new run fails here, naming the command that regenerates it.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLAIMS, evaluateClaims, experiments, resolveConfig, type Experiment, type ExperimentName } from '@tms/experiments';

const root = new URL('..', import.meta.url).pathname;
const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

interface Summary {
  experiment: string;
  command: string;
  date: string;
  machine: string;
  seconds: number | null;
  seed: number;
  config: Record<string, unknown>;
  headline: Record<string, number>;
  figures: string[];
}

describe('every experiment page shows its default run and the claims checked on it', () => {
  for (const name of Object.keys(experiments) as ExperimentName[]) {
    it(name, () => {
      const dir = join(root, 'default-runs', name);
      const file = join(dir, 'summary.json');
      expect(existsSync(file), `${file} is missing: run \`pnpm site-results ${name}\``).toBe(true);
      const summary = JSON.parse(readFileSync(file, 'utf8')) as Summary;
      const exp = experiments[name] as unknown as Experiment<object>;
      expect(summary.config, `the default run of ${name} is not of today's defaults: run \`pnpm site-results ${name}\``).toEqual(resolveConfig(exp));
      expect(summary.command).toBe(`pnpm tms run ${name}`);
      expect(summary.seed).toBe(0);
      expect(summary.date).toMatch(/^\d{4}-\d{2}-\d{2}$/);
      // every figure of the run, in both themes, as PNG; the dark one is drawn on another background
      expect(summary.figures.length).toBeGreaterThanOrEqual(1);
      for (const stem of summary.figures) {
        const [light, dark] = ['light', 'dark'].map((t) => readFileSync(join(dir, `${stem}.${t}.png`)));
        for (const png of [light, dark]) expect(png.subarray(0, 8).equals(PNG)).toBe(true);
        expect(light.equals(dark)).toBe(false);
      }
      // the headline numbers carry what the claims read: each of the experiment's claims gets a
      // measured value or is skipped by its own rule, never read as missing
      const claims = evaluateClaims(name, summary.headline, summary.config);
      expect(claims.map((c) => c.id)).toEqual(CLAIMS.filter((c) => c.experiment === name).map((c) => c.id));
      for (const c of claims.filter((c) => !c.skipped)) expect(Number.isFinite(c.value), `${c.id}: ${c.value}`).toBe(true);
      // the generated page (apps/docs/scripts/prepare.mjs, run by the docs build) shows them all
      const page = readFileSync(join(root, 'docs', 'experiments', `${name}.md`), 'utf8');
      const held = claims.filter((c) => c.pass).length;
      expect(page).toContain(`On the default run (\`pnpm tms run ${name}\`, seed 0, ${summary.date}): **${held} of ${claims.filter((c) => !c.skipped).length}** claims hold.`);
      for (const c of claims) {
        const row = page.split('\n').find((l) => l.startsWith(`| ${c.statement.replace(/\|/g, '\\|')} |`));
        expect(row, c.id).toBeDefined();
        expect(row).toContain(c.skipped ? '| does not apply |' : c.pass ? '| **holds** |' : '| **fails** |');
      }
      for (const stem of summary.figures) for (const t of ['light', 'dark']) expect(page).toContain(`/default-runs/${name}/${stem}.${t}.png`);
    });
  }
});
