#!/usr/bin/env node
// tms-copy-wasm <folder>: copy the tfjs WebAssembly binaries (WASM_FILES of @tms/backend-web) into
// <folder>, where a site serves them for useWebBackend({ wasmPaths }). Run it in a build step, e.g.
// "prebuild": "tms-copy-wasm public/wasm" with wasmPaths: '/wasm/'.
import { copyFileSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { WASM_FILES } from '../dist/index.js';

/**
 * Copy every file of WASM_FILES from the installed @tensorflow/tfjs-backend-wasm into `folder`
 * (created if needed). Returns the paths written.
 */
export function copyWasmFiles(folder) {
  const from = join(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  mkdirSync(folder, { recursive: true });
  return WASM_FILES.map((f) => {
    const to = join(folder, f);
    copyFileSync(join(from, f), to);
    return to;
  });
}

// run as a command: `npx tms-copy-wasm` starts it through a symlink in node_modules/.bin
function invokedAs() {
  try {
    return pathToFileURL(realpathSync(process.argv[1] ?? '')).href;
  } catch {
    return ''; // not started from a file (e.g. imported from `node -e`)
  }
}
if (import.meta.url === invokedAs()) {
  const folder = process.argv[2];
  if (!folder || process.argv.length > 3 || folder.startsWith('-')) {
    process.stderr.write('usage: tms-copy-wasm <folder>  (copies the tfjs wasm binaries that useWebBackend({ wasmPaths }) loads)\n');
    process.exit(2);
  }
  for (const f of copyWasmFiles(resolve(folder))) process.stdout.write(`${f} (${statSync(f).size} bytes)\n`);
}
