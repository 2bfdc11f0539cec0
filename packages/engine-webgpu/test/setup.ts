import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@tms/core';

tf.enableProdMode();
await tf.setBackend('cpu');
