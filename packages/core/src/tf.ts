import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients; this side-effect import adds them all.
import '@tensorflow/tfjs-core/dist/register_all_gradients';

/** The `@tensorflow/tfjs-core` namespace that `@tms/core` uses, with every gradient registered. */
export { tf };
