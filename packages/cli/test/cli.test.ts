import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '@tms/data';
import { experiments, type IntroModelResult } from '@tms/experiments';
import { configHash, main, parseOverrides, runExperiment, writeJsonAtomic } from '../src/index.js';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err };
}

async function freshDir() {
  return join(await mkdtemp(join(tmpdir(), 'tms-cli-')), 'out');
}

describe('config validation', () => {
  const cases: [string[], RegExp][] = [
    [['--steps', '-5'], /"steps": got -5; allowed: an integer in \[1, 10000000\]/],
    [['--steps', 'many'], /"steps": got "many"; allowed: an integer/],
    [['--optimizer', 'sgd'], /"optimizer": got "sgd"; allowed: one of "adam", "adamw"/],
    [['--models', 'linear,mlp'], /"models\[1\]": got "mlp"; allowed: one of "linear", "relu-output", "relu-hidden"/],
    [['--sparsities', '[0,1.5]'], /"sparsities\[1\]"/],
    [['--sparsities', '[]'], /"sparsities".*array of ≥ 1 numbers/],
    [['--learning-rate', '0.1'], /"learningRate".*allowed: a known field: features, hidden, importanceBase, sparsities/],
    [['--variant', 'huge'], /"variant": got "huge"; allowed: one of "quick", "paper"/],
    [['--workers', '0'], /"workers": got 0; allowed: an integer in \[1, 256\]/],
    [['--backend', 'cuda'], /"backend": got "cuda"; allowed: one of "auto", "tfjs-node-gpu"/],
  ];
  for (const [args, pattern] of cases) {
    it(`rejects ${args.join(' ')} with exit 2, naming the field, writing nothing`, async () => {
      const dir = await freshDir();
      const c = capture();
      const code = await main(['run', 'intro', '--out', dir, ...args], c.io);
      expect(code).toBe(2);
      expect(c.err.join('\n')).toMatch(pattern);
      expect(existsSync(dir)).toBe(false);
    });
  }

  it('checks rules across fields before writing anything: phase --hidden 3 (hidden ≥ features) exits 2', async () => {
    for (const [args, pattern] of [
      [['--hidden', '3'], /"hidden": got 3; allowed: an integer below features \(2\)/],
      [['--importance-min', '5', '--importance-max', '2'], /"importanceMin": got 5; allowed: at most importanceMax \(2\)/],
    ] as const) {
      const dir = await freshDir();
      const c = capture();
      expect(await main(['run', 'phase', '--out', dir, ...args], c.io)).toBe(2);
      expect(c.err.join('\n')).toMatch(pattern);
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('rejects unknown experiments and commands', async () => {
    const c = capture();
    expect(await main(['run', 'nope'], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/"experiment": got "nope"; allowed: one of intro/);
    expect(await main(['frobnicate'], c.io)).toBe(2);
    expect(await main(['run'], c.io)).toBe(2);
    expect(await main(['run', 'intro', '--steps'], c.io)).toBe(2);
  });

  it('reads a JSON config file, command-line fields override it', async () => {
    const dir = await freshDir();
    const file = join(dir, '..', 'cfg.json');
    await writeFile(file, JSON.stringify({ steps: 3, hidden: 0 }));
    const c = capture();
    expect(await main(['run', 'intro', '--config', file, '--out', dir], c.io)).toBe(2);
    expect(c.err[0]).toMatch(/"hidden": got 0/);
  });

  it('validateConfig merges defaults and checks types', () => {
    const cfg = validateConfig(experiments.intro.schema, experiments.intro.defaults, { steps: 5 });
    expect(cfg.steps).toBe(5);
    expect(cfg.features).toBe(20);
    expect(() => validateConfig(experiments.intro.schema, experiments.intro.defaults, [])).toThrow(ConfigError);
  });

  it('parses overrides as JSON, lists or strings', () => {
    expect(parseOverrides([['batch-size', '64'], ['sparsities', '0,0.9'], ['optimizer', 'adamw'], ['models', '["linear"]']])).toEqual({
      batchSize: 64,
      sparsities: [0, 0.9],
      optimizer: 'adamw',
      models: ['linear'],
    });
  });

  it('hashes configs stably', () => {
    expect(configHash({ a: 1 })).toBe(configHash({ a: 1 }));
    expect(configHash({ a: 1 })).not.toBe(configHash({ a: 2 }));
  });
});

describe('list and help', () => {
  it('lists experiments and documents fields', async () => {
    const c = capture();
    expect(await main(['list'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/^intro\s+Superposition/m);
    expect(await main(['help', 'intro'], c.io)).toBe(0);
    expect(c.out.join('\n')).toMatch(/--batch-size\s+samples per instance per step; integer in \[1, 1000000\] \(1024\)/);
  });
});

describe('worker threads', () => {
  it('results do not depend on the number of workers', async () => {
    const args = ['--steps', '60', '--batch-size', '64', '--sparsities', '0,0.9,0.99', '--log-every', '20', '--quiet'];
    const runs = [];
    for (const workers of ['1', '2']) {
      const dir = await freshDir();
      const c = capture();
      expect(await main(['run', 'intro', '--out', dir, '--workers', workers, ...args], c.io)).toBe(0);
      runs.push(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).models as IntroModelResult[]);
    }
    expect(runs[1].map((m) => m.instances.map((i) => i.W))).toEqual(runs[0].map((m) => m.instances.map((i) => i.W)));
    expect(runs[1][0].history).toEqual(runs[0][0].history);
  });
});

describe('interrupted runs resume', () => {
  const small = { steps: 40, batchSize: 32, logEvery: 10, sparsities: [0, 0.9], lr: 0.01 };

  it('keeps finished units in checkpoints and reuses them with resume', async () => {
    const dir = await freshDir();
    const controller = new AbortController();
    // abort as soon as the second model starts training
    const progress = {
      reset: (label: string) => {
        if (label === 'relu-output') controller.abort();
      },
      update() {},
      log() {},
    };
    await expect(runExperiment(experiments.intro, small, { out: dir, progress, signal: controller.signal })).rejects.toThrow(/aborted/);
    expect(existsSync(join(dir, 'results.json'))).toBe(false);
    const saved = JSON.parse(await readFile(join(dir, '.checkpoints', 'model-linear.json'), 'utf8'));
    expect(saved.value.kind).toBe('linear');

    // a different config must not resume from these checkpoints
    await expect(runExperiment(experiments.intro, { ...small, steps: 41 }, { out: dir, resume: true })).rejects.toThrow(
      /"resume".*run without --resume/,
    );

    const logs: string[] = [];
    const summary = await runExperiment(experiments.intro, small, {
      out: dir,
      resume: true,
      progress: { reset() {}, update() {}, log: (m) => logs.push(m) },
    });
    expect(logs).toContain('model-linear: resumed from checkpoint');
    const models = summary.results.models as IntroModelResult[];
    expect(models[0]).toEqual(saved.value);
    expect(models[1].kind).toBe('relu-output');
    expect(await readdir(dir)).toEqual(['intro.svg', 'intro.vl.json', 'loss.svg', 'loss.vl.json', 'results.json', 'weights.safetensors']);
  });

  it('writes files atomically (no temporary files left behind)', async () => {
    const dir = await freshDir();
    await writeJsonAtomic(join(dir, 'a.json'), { x: 1 });
    await writeJsonAtomic(join(dir, 'a.json'), { x: 2 });
    expect(await readdir(dir)).toEqual(['a.json']);
    expect(JSON.parse(await readFile(join(dir, 'a.json'), 'utf8'))).toEqual({ x: 2 });
  });
});
