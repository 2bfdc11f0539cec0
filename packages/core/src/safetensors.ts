/**
 * Minimal safetensors reader/writer (float32 tensors), so Python users can load
 * trained weights with `safetensors.torch.load_file` / `safetensors.numpy.load_file`.
 *
 * Format: 8-byte little-endian header length, a JSON header mapping names to
 * `{dtype, shape, data_offsets}` (plus optional string `__metadata__`), then the raw bytes.
 */

import { ConfigError, ShapeError } from '@tms/data';

/** A named float32 tensor. */
export interface NamedTensor {
  /** The values, row-major. */
  data: Float32Array;
  /** The shape (an empty array for a scalar). */
  shape: number[];
}

/** A safetensors file that cannot be read: the message says what is wrong with it. */
export class SafetensorsError extends Error {
  constructor(problem: string) {
    super(`invalid safetensors file: ${problem}`);
    this.name = 'SafetensorsError';
  }
}

const isShape = (s: unknown): s is number[] => Array.isArray(s) && s.every((d) => Number.isInteger(d) && d >= 0);

/**
 * Encode tensors as a safetensors file (F32; the data start 8-byte aligned).
 * @param metadata - free-form string key/values stored in `__metadata__`
 * @throws ConfigError for the reserved name `__metadata__`, data that are not a Float32Array, or non-string metadata
 * @throws ShapeError when a shape is not a list of integers ≥ 0 or does not match the data
 */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(metadata)) {
    if (typeof v !== 'string') throw new ConfigError(`metadata.${k}`, 'a string', v);
  }
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name];
    if (name === '__metadata__') throw new ConfigError('tensors.__metadata__', 'a tensor name other than "__metadata__" (reserved for the metadata)', name);
    if (!(t?.data instanceof Float32Array)) {
      throw new ConfigError(`tensors.${name}.data`, 'a Float32Array (convert with Float32Array.from)', (t?.data as unknown as { constructor?: { name?: string } } | undefined)?.constructor?.name ?? t?.data);
    }
    if (!isShape(t.shape)) throw new ShapeError(`${name}.shape`, 'a list of integers ≥ 0', t.shape);
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== expected) throw new ShapeError(name, `${expected} values for shape [${t.shape.join(', ')}]`, t.data.length);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  const encoded = new TextEncoder().encode(JSON.stringify(header));
  // pad the header (in bytes: names may be non-ASCII) with spaces so the data start 8-byte aligned
  const padded = Math.ceil((8 + encoded.length) / 8) * 8 - 8;
  const headerBytes = new Uint8Array(padded).fill(0x20);
  headerBytes.set(encoded);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const name of names) {
    const t = tensors[name];
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    if (isLittleEndian) out.set(bytes, pos);
    else for (let i = 0; i < t.data.length; i++) view.setFloat32(pos + 4 * i, t.data[i], true);
    pos += t.data.byteLength;
  }
  return out;
}

/**
 * Decode a safetensors file holding F32 tensors, checking its structure: the
 * header length, a JSON object header, each tensor's dtype, shape and byte
 * range (inside the file, matching the shape, not overlapping another, and
 * together covering the data bytes without holes).
 *
 * @throws SafetensorsError saying what is wrong
 */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  if (!(bytes instanceof Uint8Array) || bytes.length < 8) throw new SafetensorsError(`${bytes?.length ?? 0} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n64 = view.getBigUint64(0, true);
  if (n64 > BigInt(bytes.length - 8)) throw new SafetensorsError(`the header length ${n64} exceeds the ${bytes.length - 8} bytes after it`);
  const n = Number(n64);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + n)));
  } catch (e) {
    throw new SafetensorsError(`the header is not JSON (${e instanceof Error ? e.message : String(e)})`);
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new SafetensorsError('the header is not a JSON object');
  const base = 8 + n;
  const dataLength = bytes.length - base;
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  const ranges: [number, number, string][] = [];
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (info === null || typeof info !== 'object' || Object.values(info).some((v) => typeof v !== 'string')) {
        throw new SafetensorsError('__metadata__ is not an object of strings');
      }
      metadata = info as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = (info ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== 'F32') throw new SafetensorsError(`tensor "${name}" has dtype ${JSON.stringify(dtype)}; only F32 is supported`);
    if (!isShape(shape)) throw new SafetensorsError(`tensor "${name}" has shape ${JSON.stringify(shape)}, not a list of integers ≥ 0`);
    if (!Array.isArray(data_offsets) || data_offsets.length !== 2 || !data_offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      throw new SafetensorsError(`tensor "${name}" has data_offsets ${JSON.stringify(data_offsets)}, not two integers ≥ 0`);
    }
    const [begin, end] = data_offsets as [number, number];
    const count = shape.reduce((a, b) => a * b, 1);
    if (end < begin) throw new SafetensorsError(`tensor "${name}" has data_offsets [${begin}, ${end}), which end before they begin`);
    if (end > dataLength) throw new SafetensorsError(`tensor "${name}" spans bytes [${begin}, ${end}) outside the ${dataLength} data bytes`);
    if (end - begin !== 4 * count) throw new SafetensorsError(`tensor "${name}" has ${end - begin} bytes; its shape [${shape.join(', ')}] needs ${4 * count}`);
    ranges.push([begin, end, name]);
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(base + begin + 4 * i, true);
    tensors[name] = { data, shape };
  }
  ranges.sort((a, b) => a[0] - b[0]);
  // the format's rule: the data bytes are covered exactly, without holes
  let covered = 0;
  for (let i = 0; i < ranges.length; i++) {
    if (i > 0 && ranges[i][0] < ranges[i - 1][1]) throw new SafetensorsError(`tensors "${ranges[i - 1][2]}" and "${ranges[i][2]}" overlap`);
    if (ranges[i][0] > covered) throw new SafetensorsError(`data bytes [${covered}, ${ranges[i][0]}) belong to no tensor (a hole before "${ranges[i][2]}")`);
    covered = ranges[i][1];
  }
  if (covered < dataLength) throw new SafetensorsError(`data bytes [${covered}, ${dataLength}) belong to no tensor (trailing bytes)`);
  return { tensors, metadata };
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
