import { createModel, train } from '@tms/core';
import { SparseFeatures } from '@tms/data';
import { nodeGPU } from '@tms/engine-webgpu/node';
import { createWebGPUEngine } from '@tms/engine-webgpu';
import { useNodeBackend } from '@tms/backend-node';
await useNodeBackend({ prefer: 'cpu' });
const { gpu } = await nodeGPU();
const [I, n, m] = (process.argv[2] ?? '8,20,5').split(',').map(Number);
const p = Number(process.argv[3] ?? 0.5);
for (const mode of (process.argv[4] ?? 'device,host').split(',')) {
  const engine = await createWebGPUEngine({ gpu, data: mode });
  const model = createModel({ kind: 'relu-output', instances: I, features: n, hidden: m, seed: 0 });
  const data = () => new SparseFeatures({ instances: I, features: n, featureProbability: p, seed: 1, generator: 'philox' });
  await train({ model, data: data(), steps: 5, batchSize: 1024, logEvery: 1e9, engines: [engine] });
  const r = await train({ model, data: data(), steps: 30, batchSize: 1024, logEvery: 1e9, engines: [engine] });
  console.log(mode, (1000 * r.seconds / 30).toFixed(2), 'ms/step');
}
process.exit(0);
