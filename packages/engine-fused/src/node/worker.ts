// Worker thread of parallelFusedEngine: trains a contiguous range of instances
// with the fused engine (see ../threads.ts). Each message is a segment of steps
// or a request for the range's weights.
import { parentPort, workerData } from 'node:worker_threads';
import { threadWorker, type ThreadRequest } from '../threads.js';

const port = parentPort!;
const handle = threadWorker(workerData);
port.on('message', (request: ThreadRequest) => {
  const { reply, transfer } = handle(request);
  port.postMessage(reply, transfer);
});
