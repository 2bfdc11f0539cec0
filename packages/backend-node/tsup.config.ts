import { defineConfig } from 'tsup';
import { tsupOptions } from '../../tsup.base';

// worker.ts is a separate entry: trainParallel starts it as a worker thread.
export default defineConfig(tsupOptions({ entry: ['src/index.ts', 'src/worker.ts'], shims: true }));
