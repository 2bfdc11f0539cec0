import { defineConfig } from 'tsup';
import { tsupOptions } from '../../tsup.base';

// safetensors is an entry of its own: reading and writing weight files needs no tfjs.
export default defineConfig(tsupOptions({ entry: { index: 'src/index.ts', safetensors: 'src/safetensors.ts' } }));
