import { tf } from '@tms/core';
import { useNodeBackend } from '@tms/backend-node';

tf.enableProdMode();
await useNodeBackend({ prefer: 'wasm' });
