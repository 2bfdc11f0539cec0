import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, validateConfig } from '@tms/data';
import { experiments, type IntroModelResult, type IntroTrainedModel } from '@tms/experiments';
import { configHash, main, parseOverrides, readCheckpoint, runExperiment, writeJsonAtomic } from '../src/index.js';

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
    // argv that used to change the run silently
    [['--sparsities', '0,'], /"sparsities": got "0,"; allowed: a comma-separated list without empty items/],
    [['--resume=maybe'], /"resume": got "maybe"; allowed: no value, "true" or "false"/],
    [['--steps', '5', '--steps', '6'], /--steps is given twice/],
    [['--variant'], /--variant needs a value/],
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

  it('never takes an option for a value, nor an empty or non-object config', async () => {
    const cwd = process.cwd();
    const c = capture();
    expect(await main(['run', 'intro', '--out', '--quiet'], c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/--out needs a value/);
    expect(existsSync(join(cwd, '--quiet'))).toBe(false);
    expect(await main(['run', 'intro', '--out', ''], c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(/"out": got ""; allowed: a folder path/);
    for (const content of ['null', '42', '[1]']) {
      const dir = await freshDir();
      const file = join(dir, '..', 'cfg.json');
      await writeFile(file, content);
      const d = capture();
      expect(await main(['run', 'intro', '--config', file, '--out', dir], d.io)).toBe(2);
      expect(d.err.join('\n')).toMatch(/"config": got .*; allowed: a JSON object of config fields/);
      expect(existsSync(dir)).toBe(false);
    }
  });

  it('reads a single value for a list field as a list of one (--models relu-output), and --resume=false as no resume', async () => {
    const dir = await freshDir();
    const c = capture();
    const args = ['--models', 'relu-output', '--sparsities', '0.9', '--steps', '2', '--log-every', '1', '--resume=false', '--quiet', '--workers', '1'];
    expect(await main(['run', 'intro', '--out', dir, ...args], c.io)).toBe(0);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(results.config.models).toEqual(['relu-output']);
    expect(results.config.sparsities).toEqual([0.9]);
  });

  it('an empty list value (--adversarial-epsilons "") skips an optional part; where a list must not be empty it is refused by name', async () => {
    const dir = await freshDir();
    const c = capture();
    const args = ['--variant', 'quick', '--adversarial-epsilons', '', '--sparsities', '0,0.99', '--steps', '20', '--log-every', '10', '--quiet', '--workers', '1'];
    expect(await main(['run', 'adversarial', '--out', dir, ...args], c.io), c.err.join('\n')).toBe(0);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(results.config.adversarialEpsilons).toEqual([]);
    expect(results.training).toEqual([]);
    expect(existsSync(join(dir, 'adversarial-training.svg'))).toBe(false);
    const bad = capture();
    expect(await main(['run', 'adversarial', '--out', await freshDir(), '--sparsities', '', '--quiet'], bad.io)).toBe(2);
    expect(bad.err.join('\n')).toMatch(/"sparsities": got \[\]; allowed: array of ≥ 1 numbers/);
  });

  it('stops a diverging run with exit code 3, naming the step, the instance and the likely cause, writing no results', async () => {
    const dir = await freshDir();
    const c = capture();
    const args = ['--optimizer', 'adamw', '--weight-decay', '10', '--lr', '10', '--steps', '40', '--log-every', '10', '--models', 'relu-output', '--workers', '1', '--quiet'];
    expect(await main(['run', 'intro', '--out', dir, ...args], c.io)).toBe(3);
    expect(c.err.join('\n')).toMatch(/training diverged at step \d+ \(instance \d+.*\); the likely cause is a learning rate \(10\) too large .* or the weight decay \(10\)/);
    expect(existsSync(join(dir, 'results.json'))).toBe(false);
    expect(existsSync(join(dir, 'weights.safetensors'))).toBe(false);
  });

  it('owns its output folder: a second run into a held folder exits 2 naming the holder; a stale lock is taken over', async () => {
    const { spawnSync } = await import('node:child_process');
    const dir = await freshDir();
    // held by a live process (this one)
    await writeFile(`${dir}.lock`, `${process.pid}\n`);
    const c = capture();
    const args = ['--models', 'relu-output', '--sparsities', '0', '--steps', '2', '--log-every', '1', '--workers', '1', '--quiet'];
    expect(await main(['run', 'intro', '--out', dir, ...args], c.io)).toBe(2);
    expect(c.err.join('\n')).toMatch(new RegExp(`in use by another run \\(pid ${process.pid}, lock .*\\.lock\\)`));
    expect(existsSync(dir)).toBe(false);
    // left by a process that has exited: taken over with a notice, and released at the end
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    await writeFile(`${dir}.lock`, `${dead}\n`);
    const logs: string[] = [];
    const progress = { reset() {}, update() {}, log: (m: string) => void logs.push(m) };
    await runExperiment(experiments.intro, { models: ['relu-output'], sparsities: [0], steps: 2, logEvery: 1 }, { out: dir, progress });
    expect(logs.join('\n')).toMatch(new RegExp(`taking over the stale lock .*\\(pid ${dead} is not running\\)`));
    expect(existsSync(join(dir, 'results.json'))).toBe(true);
    expect(existsSync(`${dir}.lock`)).toBe(false);
  });

  it('finishes a run whose reader has gone (`tms run … | head`): no crash on EPIPE, exit 0, results written', async () => {
    const { spawnSync } = await import('node:child_process');
    const { fileURLToPath } = await import('node:url');
    const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
    const dir = await freshDir();
    // `true` exits without reading: the run's last line meets a closed pipe
    const args = ['run', 'intro', '--out', dir, '--models', 'relu-output', '--sparsities', '0', '--steps', '200', '--workers', '1', '--quiet'];
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', `"${process.execPath}" "${bin}" ${args.join(' ')} | true`], { encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/EPIPE/);
    expect(r.status).toBe(0);
    expect(existsSync(join(dir, 'results.json'))).toBe(true);
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
    const saved = await readCheckpoint<IntroTrainedModel>(join(`${dir}.partial`, '.checkpoints', 'model-linear.safetensors'), JSON.parse(await readFile(join(`${dir}.partial`, '.checkpoints', 'manifest.json'), 'utf8')).hash);
    if (saved.status !== 'ok') throw new Error(saved.status);
    expect(saved.value.kind).toBe('linear');

    // a different config must not resume from these checkpoints
    await expect(runExperiment(experiments.intro, { ...small, steps: 41 }, { out: dir, resume: true })).rejects.toThrow(
      /"resume".*rerun with --restart to start over/,
    );

    const logs: string[] = [];
    const summary = await runExperiment(experiments.intro, small, {
      out: dir,
      resume: true,
      progress: { reset() {}, update() {}, log: (m) => logs.push(m) },
    });
    expect(logs).toContain('model-linear: resumed from checkpoint');
    const models = summary.results.models as IntroModelResult[];
    // the checkpoint holds the trained weights and history; the results are analysed from them
    expect(models[0].instances.map((i) => i.W)).toEqual(saved.value.W);
    expect(models[0].history).toEqual(saved.value.history);
    expect(existsSync(`${dir}.partial`)).toBe(false);
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
