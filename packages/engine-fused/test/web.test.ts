// webWorkerFusedEngine, driven in Node through a stand-in for the browser's Worker:
// a worker thread that runs the built Web Worker script (dist/web/worker.js) with
// `self` wired to its port. The browser test of the docs site runs it in Chromium.
import { Worker as ThreadWorker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createModel, train } from '@tms/core';
import { ConfigError, SparseFeatures } from '@tms/data';
import { fusedEngine } from '../src/index.js';
import { webWorkerFusedEngine } from '../src/web/index.js';
import { engineConformance } from '../../core/test/conformance.js';

const script = new URL('../dist/web/worker.js', import.meta.url).href;
const boot = `
const { parentPort } = require('node:worker_threads');
const queue = [];
globalThis.self = { onmessage: null, postMessage: (m, t) => parentPort.postMessage(m, t) };
parentPort.on('message', (data) => (self.onmessage ? self.onmessage({ data }) : queue.push(data)));
import(${JSON.stringify(script)}).then(() => { for (const data of queue.splice(0)) self.onmessage({ data }); });
`;

/** The part of the DOM Worker the engine uses, on a Node worker thread. */
function webLikeWorker(): Worker {
  // the built script resolves @tms/* to their builds: drop the source condition the thread would inherit
  const execArgv = process.execArgv.filter((a, i, all) => a !== '--conditions=@tms/source' && a !== '@tms/source' && !((a === '--conditions' || a === '-C') && all[i + 1] === '@tms/source'));
  const t = new ThreadWorker(boot, { eval: true, execArgv });
  const w = {
    onmessage: null as ((e: { data: unknown }) => void) | null,
    onerror: null as ((e: { message: string; preventDefault(): void }) => void) | null,
    postMessage: (m: unknown, transfer?: ArrayBuffer[]) => t.postMessage(m, transfer),
    terminate: () => void t.terminate(),
  };
  t.on('message', (data) => w.onmessage?.({ data }));
  t.on('error', (e) => w.onerror?.({ message: e.message, preventDefault() {} }));
  return w as unknown as Worker;
}

engineConformance({ label: 'fused on 2 Web Workers', engines: [webWorkerFusedEngine({ workers: 2, createWorker: webLikeWorker })], name: 'fused-web-workers' });

describe('webWorkerFusedEngine', () => {
  it('gives exactly the single-thread fused result on 2 and 3 workers', async () => {
    const config = { kind: 'relu-output' as const, instances: 5, features: 12, hidden: 3, seed: 3 };
    const data = () => new SparseFeatures({ instances: 5, features: 12, sparsity: [0, 0.5, 0.8, 0.9, 0.99].map((s) => new Array<number>(12).fill(s)), seed: 4 });
    const reference = createModel(config);
    await train({ model: reference, data: data(), steps: 60, batchSize: 32, logEvery: 20, engines: [fusedEngine] });
    const expected = await reference.getParams();
    for (const workers of [2, 3]) {
      const model = createModel(config);
      const r = await train({ model, data: data(), steps: 60, batchSize: 32, logEvery: 20, engines: [webWorkerFusedEngine({ workers, createWorker: webLikeWorker })] });
      expect(r.engine).toBe('fused-web-workers');
      expect(await model.getParams()).toEqual(expected);
      model.dispose();
    }
    reference.dispose();
  });

  it('needs createWorker, and declines one worker for a short segment', () => {
    expect(() => webWorkerFusedEngine({} as never)).toThrow(ConfigError);
    const engine = webWorkerFusedEngine({ workers: 1, createWorker: webLikeWorker });
    const model = createModel({ kind: 'relu-output', instances: 2, features: 5, hidden: 2 });
    const plan = { model, data: new SparseFeatures({ instances: 2, features: 5 }), steps: 10, batchSize: 8, logEvery: 5 } as never;
    expect(engine.unsupported(plan)).toMatch(/one worker thread for a short segment/);
    model.dispose();
  });
});
