// Worker thread of trainParallel: trains a contiguous range of instances with the
// fused engine, on weights that live in SharedArrayBuffers owned by the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { FusedTiedTrainer, learningRateAt } from '@tms/core';
import { SparseFeatures } from '@tms/data';
import type { WorkerInit, WorkerReply } from './parallel.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const { start, end, features: n, hidden: m } = init;
const count = end - start;
// the main thread's shared weights; the trainer works on its own copy and writes back at every report
const W = new Float32Array(init.W, start * n * m * 4, count * n * m);
const b = new Float32Array(init.b, start * n * 4, count * n);
const trainer = new FusedTiedTrainer({
  kind: init.kind,
  instances: count,
  features: n,
  hidden: m,
  W,
  b,
  importance: init.importance,
  optimizer: init.optimizer,
});
const data = new SparseFeatures({ ...init.data, instances: count, features: n, firstInstance: start });
const buffer = trainer.batchBuffer(init.batchSize);

let resume: ((go: boolean) => void) | null = null;
port.on('message', (msg: 'go' | 'stop') => {
  resume?.(msg === 'go');
  resume = null;
});

async function run() {
  for (let step = 0; step < init.steps; step++) {
    const lr = learningRateAt(init.schedule, init.optimizer.lr, step, init.steps);
    trainer.train(data.sample(init.batchSize, buffer).data, init.batchSize, lr);
    const done = step + 1;
    if (done % init.logEvery === 0 || done === init.steps) {
      W.set(trainer.W);
      b.set(trainer.b);
      const go = new Promise<boolean>((r) => (resume = r));
      const reply: WorkerReply = { type: 'loss', step: done, loss: Array.from(trainer.loss) };
      port.postMessage(reply);
      if (!(await go)) break;
    }
  }
  port.postMessage({ type: 'done' } satisfies WorkerReply);
}

run().catch((e) => port.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies WorkerReply));
