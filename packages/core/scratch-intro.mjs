import '@tensorflow/tfjs-backend-wasm';
import { tf, createModel, train } from './dist/index.js';
import { SparseFeatures, geometricImportance } from '@tms/data';
import { representedCount, superposition, featureNorms } from '../analysis/dist/index.js';
await tf.setBackend('wasm');
const steps = +process.argv[2] || 10000; const lr = +process.argv[3] || 1e-3;
const S = [0, 0.7, 0.9, 0.97, 0.99, 0.997, 0.999];
for (const kind of ['linear', 'relu-output']) {
  const model = createModel({ kind, instances: 7, features: 20, hidden: 5, seed: 0 });
  const data = new SparseFeatures({ instances: 7, features: 20, sparsity: S.map(s => Array(20).fill(s)), seed: 1 });
  const r = await train({ model, data, importance: geometricImportance(20, 0.7), steps, optimizer: { name: 'adam', lr }, logEvery: 1000 });
  const p = await model.getParams();
  const sp = superposition(p.W);
  console.log(kind, r.seconds.toFixed(1), 'count', representedCount(p.W).join(','), 'sup', sp.map(r => r.reduce((a,b)=>a+b,0).toFixed(3)).join(','));
  console.log(featureNorms(p.W).map(r=>r.map(v=>v.toFixed(2)).join(' ')).join('\n'));
}
