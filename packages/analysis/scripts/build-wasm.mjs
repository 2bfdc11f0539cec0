// Compiles asm/sae.ts (AssemblyScript, SIMD) to src/sae-wasm.generated.ts, the base64
// module trainSparseAutoencoder loads; `--check` fails if the committed module is stale
// (see scripts/wasm.mjs at the repository root).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { buildWasm } from '../../../scripts/wasm.mjs';

const root = new URL('..', import.meta.url).pathname;
const require = createRequire(import.meta.url);
buildWasm({
  asc: join(require.resolve('assemblyscript/package.json'), '..', 'bin', 'asc.js'),
  source: join(root, 'asm', 'sae.ts'),
  target: join(root, 'src', 'sae-wasm.generated.ts'),
  constName: 'SAE_WASM_BASE64',
  doc: "The sparse autoencoder's gradient kernel as WebAssembly (SIMD), base64.",
  label: 'sae kernel',
  check: process.argv.includes('--check'),
});
