import { ConfigError, ShapeError, checkLength } from '@tms/data';

/**
 * A batched weight array `W` of shape `[instances, features, hidden]`, row-major:
 * feature i of instance k has the embedding `W[k, i, :]` (a column of the paper's m×n W).
 * `ParamArray`s returned by `ToyModel.getParams()` in `@tms/core` fit this shape.
 */
export interface BatchedWeights {
  /** The values, row-major. */
  data: ArrayLike<number>;
  /** `[instances, features, hidden]`. */
  shape: readonly number[];
}

/** Dimensions `[instances, features, hidden]` of a {@link BatchedWeights}, checked; errors name the argument `name`. */
export function dims(W: BatchedWeights, name = 'W'): [number, number, number] {
  if (!W || !W.shape || W.shape.length !== 3) {
    throw new ShapeError(name, 'shape [instances, features, hidden]', W?.shape ?? W);
  }
  const [I, n, m] = W.shape as [number, number, number];
  checkLength(W.data, I * n * m, `${name}.data`);
  return [I, n, m];
}

/** The `[features][hidden]` matrix of one instance as nested arrays. */
export function instanceMatrix(W: BatchedWeights, instance: number): number[][] {
  const [I, n, m] = dims(W);
  if (!Number.isInteger(instance) || instance < 0 || instance >= I) {
    throw new ConfigError('instance', `an integer in [0, ${I - 1}]`, instance);
  }
  const out: number[][] = [];
  for (let i = 0; i < n; i++) {
    const row: number[] = [];
    for (let j = 0; j < m; j++) row.push(W.data[(instance * n + i) * m + j]);
    out.push(row);
  }
  return out;
}

/** Build a {@link BatchedWeights} from nested arrays `[instances][features][hidden]`. */
export function fromNested(W: number[][][]): BatchedWeights {
  const I = W.length;
  const n = W[0]?.length ?? 0;
  const m = W[0]?.[0]?.length ?? 0;
  const data = new Float64Array(I * n * m);
  let k = 0;
  for (const inst of W) {
    if (inst.length !== n) throw new ShapeError('W', `${n} features in every instance (not ragged)`, inst.length);
    for (const row of inst) {
      if (row.length !== m) throw new ShapeError('W', `${m} hidden dimensions in every feature (not ragged)`, row.length);
      for (const v of row) data[k++] = v;
    }
  }
  return { data, shape: [I, n, m] };
}
