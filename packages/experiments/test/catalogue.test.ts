import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError } from '@tms/data';
import { autodiffEngine } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { createRunContext, experiments, getExperiment, resolveConfig, type ConfigOf, type IntroModelResult } from '../src/index.js';

const src = new URL('../src/', import.meta.url).pathname;

describe('the catalogue runs anywhere', () => {
  it('imports nothing from Node: no node: modules and no Node-only packages', () => {
    const nodeOnly = /from\s+['"](node:|fs['"]|path['"]|os['"]|worker_threads|child_process|@tms\/cli|@tms\/backend-node|@tms\/engine-fused\/node)/;
    for (const f of readdirSync(src).filter((f) => f.endsWith('.ts'))) {
      const text = readFileSync(join(src, f), 'utf8');
      expect(text, f).not.toMatch(nodeOnly);
      expect(text, f).not.toMatch(/\bprocess\.|\bBuffer\b|\b__dirname\b/);
    }
  });

  it('runs an experiment from code with in-memory checkpoints (intro, dense: the top 5 features)', async () => {
    const exp = experiments.intro;
    const config = resolveConfig(exp, { models: ['relu-output'], sparsities: [0], steps: 1500 }, 'quick');
    const out = await exp.run(config, createRunContext({ engines: [fusedEngine, autodiffEngine] }));
    const [relu] = out.results.models as IntroModelResult[];
    expect(relu.instances[0].metrics.representedCount).toBe(5);
    expect(relu.instances[0].metrics.featureNorms.flatMap((v, i) => (v > 0.5 ? [i] : []))).toEqual([0, 1, 2, 3, 4]);
    expect(Object.keys(out.figures)).toContain('intro');
  });
});

describe('typed configs and cross-field checks', () => {
  it('types each config by experiment name', () => {
    expectTypeOf<ConfigOf<'phase'>['restarts']>().toEqualTypeOf<number>();
    expectTypeOf(experiments.geometry.defaults.chunkSize).toEqualTypeOf<number>();
    // @ts-expect-error: no such experiment
    void experiments.phaze;
    expect(getExperiment('phaze')).toBeUndefined();
    expect(getExperiment('intro-2d')).toBe(experiments['intro-2d']);
  });

  it('resolveConfig runs check() after the fields: phase needs fewer hidden dimensions than features', () => {
    expect(() => resolveConfig(experiments.phase, { hidden: 3 })).toThrow(ConfigError);
    expect(() => resolveConfig(experiments.phase, { hidden: 2 })).toThrow(/"hidden": got 2; allowed: an integer below features \(2\)/);
    expect(() => resolveConfig(experiments.phase, { features: 3, hidden: 2 })).not.toThrow();
    expect(() => resolveConfig(experiments.phase, { importanceMin: 3, importanceMax: 2 })).toThrow(/"importanceMin"/);
    for (const [name, exp] of Object.entries(experiments)) {
      for (const v of Object.keys(exp.variants)) expect(() => resolveConfig(exp as never, {}, v), `${name} ${v}`).not.toThrow();
    }
  });
});
