import { defineConfig } from 'tsup';
import { tsupOptions } from '../../tsup.base';

export default defineConfig(tsupOptions({ entry: ['src/index.ts', 'src/bin.ts'], shims: true }));
