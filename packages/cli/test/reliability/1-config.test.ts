// Section 1 of the reliability probe: bad config input. Every refusal exits 2,
// names the field and the allowed values, and writes nothing.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { experiments, resolveConfig } from '@tms/experiments';
import { TINY, expectNothingWritten, expectRefused, freshOut, probe, tms } from './probe.js';

/** [probe id, experiment, args, pattern] for runs refused before anything is written. */
const REFUSED: [string, string, string[], RegExp][] = [
  ['1', 'intro', ['--features', 'abc'], /"features": got "abc"; allowed: an integer in \[2, 4096\]/],
  ['2', 'intro', ['--features', '2.5'], /"features": got 2\.5; allowed: an integer/],
  ['3', 'intro', ['--features', '0'], /"features": got 0; allowed: an integer in \[2, 4096\]/],
  ['4', 'intro', ['--features', '5000'], /"features": got 5000; allowed: an integer in \[2, 4096\]/],
  ['5', 'intro', ['--lr', 'NaN'], /"lr": got "NaN"; allowed: a finite number/],
  ['6', 'intro', ['--lr', 'Infinity'], /"lr": got "Infinity"; allowed: a finite number/],
  ['7', 'intro', ['--lr', '-1'], /"lr": got -1; allowed: a finite number in \[0, 10\]/],
  ['8', 'intro', ['--lr', '1e999'], /"lr": got Infinity; allowed: a finite number/],
  ['9', 'intro', ['--sparsities', '[]'], /"sparsities": got \[\]; allowed: array of ≥ 1 numbers/],
  ['10', 'intro', ['--models', '[]'], /"models": got \[\]; allowed: array of ≥ 1 of/],
  ['11', 'intro', ['--bogus', '3'], /"bogus".*allowed: a known field: features/],
  ['14', 'intro', ['--sparsities', '0,0.9,abc'], /"sparsities\[2\]": got "abc"/],
  ['15', 'intro', ['--sparsities', '0,1.5'], /"sparsities\[1\]": got 1\.5/],
  ['16', 'intro', ['--models', 'linear,mlp'], /"models\[1\]": got "mlp"; allowed: one of "linear", "relu-output", "relu-hidden"/],
  ['17', 'intro', ['--sparsities', '0,'], /"sparsities": got "0,"; allowed: a comma-separated list without empty items/],
  ['18', 'intro', ['--models', 'relu-output,'], /"models": got "relu-output,"; allowed: a comma-separated list without empty items/],
  ['19', 'intro', ['--steps'], /--steps needs a value/],
  ['20', 'intro', ['--steps', '--quiet'], /--steps needs a value/],
  ['23', 'intro', ['--steps', '10', '--steps', '20'], /--steps is given twice/],
  ['24', 'intro', ['--out', 'A', '--out', 'B'], /--out is given twice/],
  ['25', 'intro', ['--quiet=no'], /"quiet": got "no"; allowed: no value, "true" or "false"/],
  ['27', 'intro', ['--variant', 'nope'], /"variant": got "nope"; allowed: one of "quick", "paper"/],
  ['28', 'intro', ['--backend', 'gpu'], /"backend": got "gpu"; allowed: one of "auto", "tfjs-node-gpu", "webgpu", "tfjs-node", "wasm", "cpu"/],
  ['29', 'intro', ['--workers', '0'], /"workers": got 0; allowed: an integer in \[1, 256\]/],
  ['29', 'intro', ['--workers', 'abc'], /"workers": got "abc"; allowed: an integer in \[1, 256\]/],
  ['30', 'intro', ['--steps', '1e3x'], /"steps": got "1e3x"/],
  ['30', 'intro', ['--steps', '"10"'], /"steps": got "10"/],
  ['30', 'intro', ['--steps', 'true'], /"steps": got true/],
  ['44', 'phase', ['--features', '17'], /"features": got 17; allowed: an integer in \[2, 16\]/],
  ['45', 'phase', ['--importance-min', '0'], /"importanceMin": got 0; allowed: a finite number in \[0\.000001, 1000000\]/],
  ['46', 'phase', ['--importance-min', '20', '--importance-max', '1'], /"importanceMin": got 20; allowed: at most importanceMax \(1\)/],
  ['47', 'phase', ['--density-max', '1'], /"densityMax": got 1/],
  ['48', 'phase', ['--hidden', '5', '--features', '3'], /"hidden": got 5; allowed: an integer below features \(3\)/],
  ['48', 'phase', ['--variant', 'n3m2-quick', '--features', '2'], /"hidden": got 2; allowed: an integer below features \(2\)/],
  ['49', 'geometry', ['--chunk-size', '0'], /"chunkSize": got 0/],
  ['50', 'geometry', ['--variant', 'n3m2'], /"variant": got "n3m2"; allowed: one of "quick", "paper"/],
  ['52', 'sae', ['--dictionary-size', '-1'], /"dictionarySize": got -1/],
  ['53', 'sae', ['--threshold', '2'], /"threshold": got 2/],
  ['54', 'sae', ['--sae-lr', '0'], /"saeLr": got 0; allowed: a finite number in \[1e-7, 1\]/],
  ['55', 'sae', ['--sparsities', '[0.5,"x"]'], /"sparsities\[1\]": got "x"/],
  ['56', 'sae', ['--variant', 'paper', '--features', '300'], /"features": got 300/],
];

describe('reliability 1: bad config input exits 2, naming the field, writing nothing', () => {
  for (const [id, name, args, pattern] of REFUSED) {
    probe(id, `${name} ${args.join(' ')}`, async () => {
      const dir = await freshOut();
      await expectRefused(['run', name, '--out', dir, ...args], pattern, dir);
    });
  }

  probe('12, 13', "the README's example: a single value for a list field is a list of one", async () => {
    const dir = await freshOut();
    const r = await tms(['run', 'intro', '--out', dir, '--sparsities', '0,0.9,0.99', '--models', 'relu-output', '--steps', '20', '--log-every', '10', '--batch-size', '64', '--quiet']);
    expect(r.code).toBe(0);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(results.config.models).toEqual(['relu-output']);
    expect(results.config.sparsities).toEqual([0, 0.9, 0.99]);
    const one = await freshOut();
    expect((await tms(['run', 'intro', '--out', one, ...TINY.filter((_, i) => i < 2 || i > 3), '--sparsities', '0.5'])).code).toBe(0);
    expect(JSON.parse(await readFile(join(one, 'results.json'), 'utf8')).config.sparsities).toEqual([0.5]);
  });

  probe('21, 22', 'an option is never a value: --out --quiet and --out "" are refused', async () => {
    const cwd = process.cwd();
    await expectRefused(['run', 'intro', '--out', '--quiet'], /--out needs a value/);
    expect((await import('node:fs')).existsSync(join(cwd, '--quiet'))).toBe(false);
    await expectRefused(['run', 'intro', '--out', ''], /"out": got ""; allowed: a folder path \(not empty\)/);
  });

  probe('25, 26', '--resume=false means no resume; --lr -0 and --seed -0 read as 0', async () => {
    const dir = await freshOut();
    const r = await tms(['run', 'intro', '--out', dir, ...TINY, '--resume=false', '--lr', '-0', '--seed', '-0']);
    expect(r.code).toBe(0);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(Object.is(results.config.lr, 0) || results.config.lr === 0).toBe(true);
    expect(results.config.seed).toBe(0);
  });

  probe('31', 'a backend that is not installed falls back, and results record the one used and why', async () => {
    const dir = await freshOut();
    const r = await tms(['run', 'intro', '--out', dir, ...TINY.filter((a) => a !== '--quiet'), '--backend', 'tfjs-node']);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/skipped tfjs-node: not installed/);
    const results = JSON.parse(await readFile(join(dir, 'results.json'), 'utf8'));
    expect(results.backend.name).not.toBe('tfjs-node');
    expect(JSON.stringify(results.backend.skipped)).toMatch(/tfjs-node/);
  });

  probe('32', 'usage errors exit 2 and list the allowed values', async () => {
    for (const [args, pattern] of [
      [['run'], /run needs an experiment name: intro/],
      [['run', 'bogus'], /"experiment": got "bogus"; allowed: one of intro/],
      [['bogus'], /unknown command "bogus"; allowed: run, merge, slurm, k8s, check, list, help, --version/],
      [['help', 'bogus'], /"experiment": got "bogus"/],
      [['run', 'intro', 'extra'], /unexpected argument "extra"/],
    ] as const) {
      await expectRefused([...args], pattern);
    }
  });

  probe('33, 34, 35, 36, 37, 38, 39, 40, 42, 43', 'a bad --config file exits 2 naming the problem', async () => {
    const dir = await freshOut();
    const folder = join(dir, '..');
    const cases: [string, RegExp][] = [
      ['{"steps": ', /cannot read --config .*: (Unexpected end|Expected)/],
      ['{"quiet": true}', /"quiet".*allowed: a known field/],
      ['[1,2]', /"config": got \[1,2\]; allowed: a JSON object of config fields/],
      ['"hello"', /"config": got "hello"; allowed: a JSON object/],
      ['null', /"config": got null; allowed: a JSON object/],
      ['42', /"config": got 42; allowed: a JSON object/],
      ['{"__proto__": {"steps": 5}}', /"__proto__".*allowed: a known field/],
      ['{"lr": "0.01"}', /"lr": got "0\.01"; allowed: a finite number/],
      ['\ufeff{"steps": 5}', /cannot read --config/],
      ['', /cannot read --config .*Unexpected end of JSON input/],
      ['{"sparsities": [0, null]}', /"sparsities\[1\]": got null/],
      ['{"features": 1e400}', /"features": got Infinity/],
    ];
    for (const [i, [content, pattern]] of cases.entries()) {
      const file = join(folder, `cfg${i}.json`);
      await writeFile(file, content);
      await expectRefused(['run', 'intro', '--config', file, '--out', dir], pattern, dir);
    }
    await mkdir(join(folder, 'a-dir'));
    await expectRefused(['run', 'intro', '--config', join(folder, 'a-dir'), '--out', dir], /cannot read --config .*EISDIR/, dir);
    await expectRefused(['run', 'intro', '--config', join(folder, 'missing.json'), '--out', dir], /cannot read --config .*ENOENT/, dir);
  });

  probe('41', 'a --config with a repeated key follows JSON (the last one)', async () => {
    const dir = await freshOut();
    const file = join(dir, '..', 'dup.json');
    await writeFile(file, '{"steps": 5, "steps": 10}');
    expect((await tms(['run', 'intro', '--config', file, '--out', dir, ...TINY.filter((a, i) => a !== '--steps' && TINY[i - 1] !== '--steps')])).code).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'results.json'), 'utf8')).config.steps).toBe(10);
  });

  probe('51', 'geometry accepts more hidden dimensions than features (a valid if trivial model)', () => {
    expect(resolveConfig(experiments.geometry, { hidden: 100, features: 40 }).hidden).toBe(100);
  });

  probe('48', 'cross-field rules run before anything is written, including the lock', async () => {
    const dir = await freshOut();
    await expectRefused(['run', 'phase', '--out', dir, '--hidden', '3'], /"hidden": got 3/, dir);
    expectNothingWritten(dir);
  });
});
