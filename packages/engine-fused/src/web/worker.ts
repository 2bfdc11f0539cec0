// Web Worker of webWorkerFusedEngine: trains a contiguous range of instances with
// the fused engine (see ../threads.ts). The first message holds its ThreadInit;
// each later one is a segment of steps or a request for the range's weights.
import { threadWorker, type ThreadInit, type ThreadReply, type ThreadRequest } from '../threads.js';

interface WorkerScope {
  onmessage: ((e: MessageEvent<{ type: 'init'; init: ThreadInit } | ThreadRequest>) => void) | null;
  postMessage(message: ThreadReply, transfer?: Transferable[]): void;
}
const scope = self as unknown as WorkerScope;
let handle: ReturnType<typeof threadWorker> | null = null;
scope.onmessage = (e) => {
  const msg = e.data;
  if (msg.type === 'init') {
    try {
      handle = threadWorker(msg.init);
    } catch (err) {
      // reported at the first request
      const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
      handle = () => ({ reply: { type: 'error', message }, transfer: [] });
    }
    return;
  }
  const { reply, transfer } = handle!(msg);
  scope.postMessage(reply, transfer);
};
