import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { decodeSafetensors, encodeSafetensors, type NamedTensor } from '@tms/core';

/** A checkpoint or manifest that cannot be used: unreadable, corrupt, or from another run. */
export class CheckpointError extends Error {
  /** The file at fault. */
  readonly path: string;
  constructor(path: string, why: string) {
    super(`checkpoint ${path} ${why}; rerun with --restart to start over (or delete that file to recompute only its part)`);
    this.name = 'CheckpointError';
    this.path = path;
  }
}

const FORMAT = 'tms-checkpoint/1';

/**
 * Encode a unit's result as a safetensors file that keeps every number exactly:
 * Float32Arrays, and arrays of numbers that float32 holds exactly, go to the
 * binary payload; other numbers stay in a JSON skeleton (exact for finite
 * doubles), with NaN, ±Infinity and −0 tagged. The metadata holds the run hash
 * and a sha-256 of the skeleton and the payload.
 */
export function encodeCheckpoint(value: unknown, runHash: string): Uint8Array {
  const tensors: Record<string, NamedTensor> = {};
  let count = 0;
  const skeleton = JSON.stringify(value, function (this: unknown, key, v: unknown) {
    // the replacer sees typed arrays before JSON turns them into objects
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Float32Array) {
      const name = `t${count++}`;
      tensors[name] = { data: raw, shape: [raw.length] };
      return { $tensor: name, as: 'f32' };
    }
    if (raw instanceof Float64Array) return { $f64: Array.from(raw, tagNumber) };
    if (Array.isArray(v) && v.length >= 4 && v.every((x) => typeof x === 'number' && (Object.is(Math.fround(x), x) || Number.isNaN(x)))) {
      const name = `t${count++}`;
      tensors[name] = { data: Float32Array.from(v as number[]), shape: [v.length] };
      return { $tensor: name, as: 'array' };
    }
    return typeof v === 'number' ? tagNumber(v) : v;
  });
  const metadata = { format: FORMAT, hash: runHash, value: skeleton ?? 'null' };
  return encodeSafetensors(tensors, { ...metadata, sha256: digest(metadata.value, runHash, tensors) });
}

function tagNumber(x: number): number | { $number: string } {
  if (Number.isNaN(x)) return { $number: 'NaN' };
  if (x === Infinity) return { $number: 'Infinity' };
  if (x === -Infinity) return { $number: '-Infinity' };
  if (Object.is(x, -0)) return { $number: '-0' };
  return x;
}

function untagNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  const t = (v as { $number?: string })?.$number;
  if (t === 'NaN') return NaN;
  if (t === 'Infinity') return Infinity;
  if (t === '-Infinity') return -Infinity;
  if (t === '-0') return -0;
  throw new Error(`not a number: ${JSON.stringify(v)}`);
}

function digest(skeleton: string, runHash: string, tensors: Record<string, NamedTensor>): string {
  const h = createHash('sha256').update(FORMAT).update('\0').update(runHash).update('\0').update(skeleton);
  for (const name of Object.keys(tensors).sort()) {
    const t = tensors[name];
    h.update('\0').update(name).update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

/** What {@link readCheckpoint} found. */
export type CheckpointRead<T> = { status: 'missing' } | { status: 'other-run'; hash: string } | { status: 'ok'; value: T };

/**
 * Read a checkpoint written by {@link encodeCheckpoint}: `missing` when there is
 * no file, `other-run` when it belongs to another run hash, else its value.
 *
 * @throws CheckpointError naming the file when it is unreadable or corrupt (its sha-256 does not match)
 */
export async function readCheckpoint<T>(path: string, runHash: string): Promise<CheckpointRead<T>> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { status: 'missing' };
    throw new CheckpointError(path, `cannot be read (${(e as Error).message})`);
  }
  try {
    const { tensors, metadata } = decodeSafetensors(bytes);
    if (metadata.format !== FORMAT) throw new Error(`its format is ${JSON.stringify(metadata.format)}, not ${FORMAT}`);
    if (metadata.sha256 !== digest(metadata.value, metadata.hash, tensors)) throw new Error('its sha-256 does not match its contents');
    if (metadata.hash !== runHash) return { status: 'other-run', hash: metadata.hash };
    const value = JSON.parse(metadata.value, (_key, v: unknown) => {
      if (v === null || typeof v !== 'object') return v;
      if ('$number' in v) return untagNumber(v);
      if ('$f64' in v) return Float64Array.from((v as { $f64: unknown[] }).$f64, untagNumber);
      if ('$tensor' in v) {
        const { $tensor, as } = v as { $tensor: string; as: string };
        const t = tensors[$tensor];
        if (!t) throw new Error(`tensor ${$tensor} is missing`);
        return as === 'f32' ? t.data.slice() : Array.from(t.data);
      }
      return v;
    }) as T;
    return { status: 'ok', value };
  } catch (e) {
    throw new CheckpointError(path, `is corrupt: ${(e as Error).message}`);
  }
}
