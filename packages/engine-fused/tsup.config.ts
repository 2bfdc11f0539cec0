import { defineConfig } from 'tsup';
import { tsupOptions } from '../../tsup.base';

// node/worker and web/worker are entries of their own: the engines start them as threads.
export default defineConfig(
  tsupOptions({ entry: { index: 'src/index.ts', 'node/index': 'src/node/index.ts', 'node/worker': 'src/node/worker.ts', 'web/index': 'src/web/index.ts', 'web/worker': 'src/web/worker.ts' }, shims: true }),
);
