// Wall time of `tms run <experiment> --seeds K`: the seeds trained at once (each
// training call as one batch) against one after another, in one process, the
// order alternating from round to round; prints each round and the median ratio.
// node bench/seeds-together.mjs [experiment] [K] [--rounds R] [--<field> <json value> ...]
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { useNodeBackend } from '@tms/backend-node';
import { experiments, spread } from '@tms/experiments';
import { runSeeds } from '@tms/cli';

const [name = 'intro', k = '5', ...rest] = process.argv.slice(2);
const input = {};
let rounds = 1;
for (let i = 0; i < rest.length; i += 2) {
  const field = rest[i].replace(/^--/, '');
  if (field === 'rounds') rounds = Number(rest[i + 1]);
  else input[field] = JSON.parse(rest[i + 1]);
}
if (!experiments[name]) throw new Error(`no experiment ${name}; one of ${Object.keys(experiments).join(', ')}`);
await useNodeBackend({ prefer: 'wasm' });
const workers = availableParallelism();
const root = await mkdtemp(join(tmpdir(), 'tms-seeds-bench-'));
const time = async (together) => {
  const out = join(root, together ? 'together' : 'apart');
  const t0 = performance.now();
  await runSeeds(experiments[name], input, Number(k), { out, workers, together });
  const seconds = (performance.now() - t0) / 1000;
  await rm(out, { recursive: true, force: true });
  return seconds;
};
const ratios = [];
for (let r = 0; r < rounds; r++) {
  const first = r % 2 === 0;
  const a = first ? await time(false) : undefined;
  const t = await time(true);
  const apart = a ?? (await time(false));
  ratios.push(t / apart);
  console.log(`round ${r + 1}: one after another ${apart.toFixed(1)} s, together ${t.toFixed(1)} s (${(t / apart).toFixed(2)}×)`);
}
const { min, median, max } = spread(ratios);
console.log(`${name} ${JSON.stringify(input)}, ${k} seeds, ${workers} workers: together / one after another, median ${median.toFixed(2)}× (${min.toFixed(2)}–${max.toFixed(2)}) over ${rounds} round${rounds > 1 ? 's' : ''}`);
await rm(root, { recursive: true, force: true });
