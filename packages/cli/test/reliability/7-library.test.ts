// Section 7 of the reliability probe: the libraries. Bad input raises a typed
// error (ConfigError, ShapeError, SafetensorsError) that says what is wrong.
import { describe, expect } from 'vitest';
import { ConfigError, ShapeError, SparseFeatures, geometricImportance, type BatchSource } from '@tms/data';
import { SafetensorsError, createModel, decodeSafetensors, encodeSafetensors, train, tf, type TrainOptions } from '@tms/core';
import { fusedEngine } from '@tms/engine-fused';
import { probe } from './probe.js';

/** A safetensors file from a header (object or raw text) and `dataBytes` bytes of data. */
function file(header: unknown, dataBytes = 8, headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + dataBytes);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(json.length), true);
  out.set(json, 8);
  return out;
}
const ok = { x: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } };
const good = encodeSafetensors({ x: { data: Float32Array.from([1, 2]), shape: [2] } }, { a: 'b' });

/** [probe id, file, what the error says] for files the decoder refuses. */
const BAD_FILES: [string, Uint8Array, RegExp][] = [
  ['S02', good.subarray(0, good.length - 3), /outside the 5 data bytes|has \d+ bytes|truncated/],
  ['S03', good.subarray(0, 20), /header length \d+ exceeds/],
  ['S04', new Uint8Array(5), /shorter than the 8-byte header length/],
  ['S05', new Uint8Array(0), /shorter than the 8-byte header length/],
  ['S06', file(ok, 8, 10_000n), /header length 10000 exceeds/],
  ['S07', file(ok, 8, 2n ** 64n - 1n), /header length \d+ exceeds/],
  ['S08', file('', 8), /not JSON|header length 0/],
  ['S09', file('not json'), /not JSON/],
  ['S10', file('null'), /not a JSON object/],
  ['S11', file([1, 2]), /not a JSON object/],
  ['S12', file('42'), /not a JSON object/],
  ['S15', file({ x: { shape: [2], data_offsets: [0, 8] } }), /dtype undefined; only F32/],
  ['S16', file({ x: ok.x, y: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }), /"x" and "y" overlap/],
  ['S17', file({ x: { ...ok.x, shape: [2, 3] } }), /has 8 bytes; its shape \[2, 3\] needs 24/],
  ['S18', file({ x: { ...ok.x, data_offsets: [0, 16] } }), /outside the 8 data bytes/],
  ['S19', file({ x: { ...ok.x, data_offsets: [8, 0] } }), /data_offsets \[8, 0\), which end before they begin/],
  ['S20', file({ x: { ...ok.x, shape: [1], data_offsets: [0, 6] } }, 6), /has 6 bytes/],
  ['S21', file({ x: { dtype: 'F32', shape: [2] } }), /data_offsets/],
  ['S22', file({ x: { ...ok.x, shape: [-2] } }), /shape \[-2\], not a list of integers/],
  ['S23', file(ok, 12), /4 data bytes .*not covered|trailing|cover/],
  ['S24', file({ __metadata__: { a: 1 }, ...ok }), /__metadata__ is not an object of strings/],
  ['S25', file({ x: { ...ok.x, data_offsets: ['0', '8'] } }), /data_offsets/],
  ['S26', file('{"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}} trailing'), /not JSON/],
];

describe('reliability 7: libraries', () => {
  probe('S01, S27, S32, S34', 'safetensors: round trips, from a Buffer slice too, keep NaN, ±Infinity and −0', () => {
    const data = Float32Array.from([NaN, Infinity, -Infinity, -0, 1.5, 2]);
    const bytes = encodeSafetensors({ 'relu-output.W': { data, shape: [2, 3] } }, { experiment: 'intro' });
    const padded = Buffer.concat([Buffer.from('xyz'), Buffer.from(bytes)]).subarray(3);
    const back = decodeSafetensors(padded);
    expect(back.tensors['relu-output.W'].shape).toEqual([2, 3]);
    expect(Array.from(back.tensors['relu-output.W'].data).map((v) => (Object.is(v, -0) ? '-0' : v))).toEqual([NaN, Infinity, -Infinity, '-0', 1.5, 2]);
    expect(back.metadata).toEqual({ experiment: 'intro' });
  });

  for (const [id, bytes, pattern] of BAD_FILES) {
    probe(id, `safetensors: a malformed file is refused with a SafetensorsError (${pattern.source.slice(0, 40)})`, () => {
      expect(() => decodeSafetensors(bytes)).toThrow(SafetensorsError);
      expect(() => decodeSafetensors(bytes)).toThrow(pattern);
    });
  }

  probe('S13, S14', 'safetensors: other dtypes are named and refused', () => {
    expect(() => decodeSafetensors(file({ x: { ...ok.x, dtype: 'F16' } }))).toThrow(/dtype "F16"; only F32/);
    expect(() => decodeSafetensors(file({ x: { ...ok.x, dtype: 'I32' } }))).toThrow(/dtype "I32"; only F32/);
  });

  probe('S28, S29, S30, S31, S33', 'safetensors encoder: refuses __metadata__ as a name, wrong sizes, non-Float32 data; pads non-ASCII names to 8 bytes', () => {
    const t = { data: new Float32Array(2), shape: [2] };
    expect(() => encodeSafetensors({ __metadata__: t })).toThrow(/"tensors\.__metadata__"/);
    expect(() => encodeSafetensors({ a: { data: new Float32Array(3), shape: [2, 2] } })).toThrow(/"a": expected 4 values for shape \[2, 2\], got 3/);
    expect(() => encodeSafetensors({ a: { data: new Float64Array(2) as never, shape: [2] } })).toThrow(/"tensors\.a\.data": got "Float64Array"; allowed: a Float32Array/);
    expect(() => encodeSafetensors({ a: { data: [1, 2] as never, shape: [2] } })).toThrow(ConfigError);
    const bytes = encodeSafetensors({ 'Wᵢ·φ': t });
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    expect(decodeSafetensors(bytes).tensors['Wᵢ·φ'].shape).toEqual([2]);
  });

  probe('L1', 'safetensors: a header declaring 40 GB in a 16-byte file fails at once without allocating', () => {
    const before = process.memoryUsage().rss;
    expect(() => decodeSafetensors(file({ x: { dtype: 'F32', shape: [10_000_000_000], data_offsets: [0, 40_000_000_000] } }))).toThrow(SafetensorsError);
    expect(process.memoryUsage().rss - before).toBeLessThan(100e6);
  });

  probe('M01–M11, M14', 'createModel: every bad size, kind or seed is a ConfigError naming model.<field>, before allocating', () => {
    const base = { kind: 'relu-output', instances: 1, features: 5, hidden: 2 } as const;
    const cases: [object, RegExp][] = [
      [{ features: -1 }, /"model\.features": got -1/],
      [{ features: 0 }, /"model\.features": got 0/],
      [{ features: NaN }, /"model\.features": got NaN/],
      [{ features: '5' }, /"model\.features": got "5"/],
      [{ features: 2.5 }, /"model\.features": got 2\.5/],
      [{ hidden: 0 }, /"model\.hidden": got 0/],
      [{ instances: 0 }, /"model\.instances": got 0/],
      [{ kind: 'mlp' }, /"model\.kind": got "mlp"; allowed: one of/],
      [{ seed: -1 }, /"model\.seed": got -1/],
      [{ seed: 2 ** 32 }, /"model\.seed": got 4294967296/],
      [{ instances: 7, features: 100_000, hidden: 100_000 }, /"model\.hidden": got 100000; allowed: sizes whose weights fit one array/],
    ];
    for (const [change, pattern] of cases) expect(() => createModel({ ...base, ...change } as never)).toThrow(pattern);
    expect(() => createModel(undefined as never)).toThrow(ConfigError);
  });

  probe('M12, M13, M15, M16', 'createModel: features 1 and hidden > features are accepted; setParams checks shapes', () => {
    createModel({ kind: 'linear', instances: 1, features: 1, hidden: 1 }).dispose();
    const m = createModel({ kind: 'relu-output', instances: 2, features: 2, hidden: 5 });
    expect(() => m.setParams({ W: new Float32Array(3) })).toThrow(ShapeError);
    m.setParams({ W: new Float32Array(20).fill(NaN) });
    m.dispose();
  });

  probe('D01–D15, D17, D18, D20', 'SparseFeatures: every bad probability, shape, set or sample size is a ConfigError with its path', () => {
    const base = { instances: 2, features: 3 };
    const cases: [object, RegExp][] = [
      [{ featureProbability: NaN }, /"featureProbability"/],
      [{ featureProbability: -0.1 }, /"featureProbability"/],
      [{ featureProbability: 1.5 }, /"featureProbability"/],
      [{ featureProbability: 0.5, sparsity: 0.5 }, /sparsity|featureProbability/],
      [{ sparsity: [0.1, 0.2] }, /"sparsity"/],
      [{ sparsity: [[0.1, 0.2, 0.3], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3]] }, /"sparsity"/],
      [{ sparsity: [[0.1, 0.2, 0.3], [0.1, 0.2]] }, /"sparsity\[1\]"/],
      [{ sparsity: 'x' }, /"sparsity"/],
      [{ sparsity: [] }, /"sparsity"/],
      [{ instances: -1 }, /"instances"/],
      [{ features: NaN }, /"features"/],
      [{ sets: [{ features: [0, 1], mode: 'correlated' }, { features: [1, 2], mode: 'correlated' }] }, /"sets\[1\]\.features/],
      [{ sets: [{ features: [0, 7], mode: 'correlated' }] }, /"sets\[0\]\.features\[1\]"/],
      [{ sets: [{ features: [0, 1], mode: 'bogus' }] }, /"sets\[0\]\.mode"/],
    ];
    for (const [change, pattern] of cases) {
      expect(() => new SparseFeatures({ ...base, ...change } as never)).toThrow(ConfigError);
      expect(() => new SparseFeatures({ ...base, ...change } as never)).toThrow(pattern);
    }
    const data = new SparseFeatures({ ...base, sparsity: -0 });
    expect(() => data.sample(0)).toThrow(ConfigError);
    expect(() => data.sample(NaN)).toThrow(ConfigError);
  });

  probe('D05, D19', 'SparseFeatures: no sparsity means dense; a short out buffer is replaced', () => {
    const d = new SparseFeatures({ instances: 1, features: 3 });
    expect(Array.from(d.probability)).toEqual([1, 1, 1]);
    expect(d.sample(4, new Float32Array(2)).data.length).toBe(12);
  });

  probe('D16', 'SparseFeatures: an anticorrelated set whose probabilities sum past 1 is refused', () => {
    expect(() => new SparseFeatures({ instances: 1, features: 3, featureProbability: 0.9, sets: [{ features: [0, 1, 2], mode: 'anticorrelated' }] })).toThrow(
      /"sets\[0\]": got "probability 0\.8999.*k·p = 2\.69.*"; allowed: an anticorrelated set whose 3 features are each present with probability ≤ 1\/3/,
    );
  });

  probe('D21', 'geometricImportance refuses a base that is not a finite number', () => {
    expect(() => geometricImportance(5, NaN)).toThrow(/"base": got NaN/);
    expect(geometricImportance(3, 0.5)).toEqual([1, 0.5, 0.25]);
  });

  describe('train()', () => {
    const model = () => createModel({ kind: 'relu-output', instances: 2, features: 5, hidden: 2 });
    const data = (o: object = {}) => new SparseFeatures({ instances: 2, features: 5, sparsity: 0.5, ...o });
    const withModel = async (o: Partial<TrainOptions>, check: (run: () => Promise<unknown>) => Promise<void>) => {
      const m = model();
      try {
        await check(() => train({ model: m, data: data(), steps: 5, ...o } as TrainOptions));
      } finally {
        m.dispose();
      }
    };

    probe('T01–T19, T26, T27', 'every bad option is a ConfigError naming it', async () => {
      const cases: [Partial<TrainOptions> | (() => Partial<TrainOptions>), RegExp][] = [
        [{ data: new SparseFeatures({ instances: 3, features: 5 }) }, /"data": got "3 instances × 5 features"/],
        [{ data: new SparseFeatures({ instances: 2, features: 4 }) }, /"data"/],
        [{ steps: -1 }, /"steps": got -1/],
        [{ steps: NaN }, /"steps": got NaN/],
        [{ steps: undefined }, /"steps"/],
        [{ batchSize: 0 }, /"batchSize": got 0/],
        [{ batchSize: 2.5 }, /"batchSize": got 2\.5/],
        [{ importance: -1 }, /"importance"/],
        [{ importance: NaN }, /"importance"/],
        [{ importance: [1, 2] }, /"importance"/],
        [{ optimizer: { name: 'adam', lr: NaN } }, /"optimizer\.lr"/],
        [{ optimizer: { name: 'adam', lr: -1 } }, /"optimizer\.lr"/],
        [{ optimizer: { name: 'sgd' } as never }, /"optimizer\.name": got "sgd"/],
        [{ optimizer: { name: 'adam', momentum: 0.9 } as never }, /"optimizer\.momentum"/],
        [{ schedule: { name: 'bogus' } as never }, /"schedule\.name"/],
        [{ schedule: { name: 'constant', warmupSteps: -5 } }, /"schedule\.warmupSteps"/],
        [{ logEvery: 0 }, /"logEvery": got 0/],
        [{ activationL1: NaN }, /"activationL1"/],
        [{ model: null as never }, /"model": got null/],
        [{ engines: [{}] as never }, /"engines"/],
      ];
      for (const [o, pattern] of cases) {
        await withModel(o as Partial<TrainOptions>, async (run) => {
          await expect(run()).rejects.toThrow(ConfigError);
          await expect(run()).rejects.toThrow(pattern);
        });
      }
    });

    probe('T10, T24', 'huge importance trains to a finite loss; a short batch from a custom source is named (fused engine)', async () => {
      await withModel({ importance: 1e30 }, async (run) => {
        const r = (await run()) as { finalLoss: number[] };
        expect(r.finalLoss.every(Number.isFinite)).toBe(true);
      });
      const short: BatchSource = { instances: 2, features: 5, sample: () => ({ data: new Float32Array(7), shape: [2, 1, 5] }) };
      await withModel({ data: short, engines: [fusedEngine] }, async (run) => {
        await expect(run()).rejects.toThrow(/invalid shape of "batch": expected 10240 values, got 7 values/);
      });
    });

    probe('T20, T28', 'no steps, or an aborted signal: no loss is reported (never a perfect [0, 0])', async () => {
      await withModel({ steps: 0 }, async (run) => {
        const r = (await run()) as { finalLoss: number[]; steps: number };
        expect(r.finalLoss).toEqual([]);
        expect(r.steps).toBe(0);
      });
      await withModel({ signal: AbortSignal.abort() }, async (run) => {
        const r = (await run()) as { finalLoss: number[]; aborted: boolean };
        expect(r.aborted).toBe(true);
        expect(r.finalLoss).toEqual([]);
      });
    });

    probe('T21, T22', 'non-finite losses are reported per instance in diverged', async () => {
      const nan: BatchSource = { instances: 2, features: 5, sample: (B) => ({ data: new Float32Array(2 * B * 5).fill(NaN), shape: [2, B, 5] }) };
      await withModel({ data: nan, logEvery: 1 }, async (run) => {
        const r = (await run()) as { diverged: { instance: number; step: number }[] };
        expect(r.diverged.map((d) => d.instance)).toEqual([0, 1]);
      });
      await withModel({ optimizer: { name: 'adamw', lr: 10, weightDecay: 10 }, steps: 300, logEvery: 50, engines: [fusedEngine] }, async (run) => {
        const r = (await run()) as { diverged: unknown[] };
        expect(r.diverged.length).toBeGreaterThan(0);
      });
    });

    probe('T23', 'a batch source whose batches do not match its declared shape is named', async () => {
      const wrong: BatchSource = { instances: 2, features: 5, sample: (B) => ({ data: new Float32Array(2 * B * 4), shape: [2, B, 4] }) };
      await withModel({ data: wrong }, async (run) => {
        await expect(run()).rejects.toThrow(/invalid shape of "batch": expected \[2, 1024, 5\] .* got "\[2, 1024, 4\] with 8192 values"/);
        await expect(run()).rejects.not.toThrow(/Error in matMul/);
      });
    });

    probe('T25', 'a disposed model is refused', async () => {
      const m = model();
      m.dispose();
      await expect(train({ model: m, data: data(), steps: 5 })).rejects.toThrow(/"model".*not disposed/);
      expect(tf.memory().numTensors).toBeGreaterThanOrEqual(0);
    });
  });
});
