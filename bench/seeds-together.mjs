// Wall time of `tms run <experiment> --seeds K`: the seeds trained at once (each
// training call as one batch) against one after another, same machine, same run.
// node bench/seeds-together.mjs [experiment] [K] [--field value ...]
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { useNodeBackend } from '@tms/backend-node';
import { experiments } from '@tms/experiments';
import { runSeeds } from '@tms/cli';

const [name = 'intro', k = '5', ...rest] = process.argv.slice(2);
const input = {};
for (let i = 0; i < rest.length; i += 2) input[rest[i].replace(/^--/, '')] = JSON.parse(rest[i + 1]);
await useNodeBackend({ prefer: 'wasm' });
const workers = availableParallelism();
const root = await mkdtemp(join(tmpdir(), 'tms-seeds-bench-'));
const time = async (together) => {
  const t0 = performance.now();
  await runSeeds(experiments[name], input, Number(k), { out: join(root, together ? 'together' : 'apart'), workers, together });
  return (performance.now() - t0) / 1000;
};
const apart = await time(false);
const together = await time(true);
console.log(`${name} ${JSON.stringify(input)}, ${k} seeds, ${workers} workers: one after another ${apart.toFixed(1)} s, together ${together.toFixed(1)} s (${(together / apart).toFixed(2)}×)`);
