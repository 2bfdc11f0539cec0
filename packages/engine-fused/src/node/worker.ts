// Worker thread of parallelFusedEngine: trains a contiguous range of instances with
// the fused engine, on weights that live in SharedArrayBuffers owned by the main
// thread. Each message is a segment of steps; the reply is the range's loss.
import { parentPort, workerData } from 'node:worker_threads';
import { learningRateAt } from '@tms/core';
import { SparseFeatures } from '@tms/data';
import { FusedTiedTrainer } from '../trainer.js';
import type { WorkerInit, WorkerReply, WorkerRun } from './parallel.js';

const init = workerData as WorkerInit;
const port = parentPort!;
const { start, end, features: n, hidden: m } = init;
const count = end - start;
// the main thread's shared weights; the trainer works on its own copy and writes back after each segment
const W = new Float32Array(init.W, start * n * m * 4, count * n * m);
const b = new Float32Array(init.b, start * n * 4, count * n);
const trainer = new FusedTiedTrainer({
  activation: init.activation,
  kernel: init.kernel,
  instances: count,
  features: n,
  hidden: m,
  W,
  b,
  importance: init.importance,
  optimizer: init.optimizer,
});
const data = new SparseFeatures({ ...init.data, instances: count, features: n, firstInstance: init.firstInstance });
const buffer = trainer.batchBuffer(init.batchSize);

port.on('message', ({ from, to }: WorkerRun) => {
  try {
    for (let t = from; t < to; t++) {
      const lr = learningRateAt(init.schedule, init.optimizer.lr, t, init.steps);
      trainer.train(data.sample(init.batchSize, buffer).data, init.batchSize, lr);
    }
    W.set(trainer.W);
    b.set(trainer.b);
    port.postMessage({ type: 'loss', loss: Array.from(trainer.loss) } satisfies WorkerReply);
  } catch (e) {
    port.postMessage({ type: 'error', message: e instanceof Error ? (e.stack ?? e.message) : String(e) } satisfies WorkerReply);
  }
});
