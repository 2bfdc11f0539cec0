import { defineConfig } from 'tsup';
import { tsupOptions } from '../../tsup.base';

// node/worker is its own entry: parallelFusedEngine starts it as a worker thread.
export default defineConfig(
  tsupOptions({ entry: { index: 'src/index.ts', 'node/index': 'src/node/index.ts', 'node/worker': 'src/node/worker.ts' }, shims: true }),
);
