import '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@tms/core';

tf.enableProdMode();
const ok = await tf.setBackend(process.env.TMS_TEST_BACKEND ?? 'wasm');
if (!ok) throw new Error('test backend failed to initialise');
