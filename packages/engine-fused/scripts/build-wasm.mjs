// Compiles asm/fused.ts (AssemblyScript, SIMD) to src/fused-wasm.generated.ts, the base64
// module FusedTiedTrainer and FullBatchTiedTrainer load; `--check` fails if the committed
// module is stale (see scripts/wasm.mjs at the repository root).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildWasm } from '../../../scripts/wasm.mjs';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
buildWasm({
  asc: join(require.resolve('assemblyscript/package.json'), '..', 'bin', 'asc.js'),
  source: join(root, 'asm', 'fused.ts'),
  target: join(root, 'src', 'fused-wasm.generated.ts'),
  constName: 'FUSED_WASM_BASE64',
  doc: 'The fused gradient kernel as WebAssembly (SIMD), base64.',
  label: 'fused kernel',
  check: process.argv.includes('--check'),
});
