/**
 * Minimal safetensors reader/writer (float32 tensors), so Python users can load
 * trained weights with `safetensors.torch.load_file` / `safetensors.numpy.load_file`.
 *
 * Format: 8-byte little-endian header length, a JSON header mapping names to
 * `{dtype, shape, data_offsets}` (plus optional string `__metadata__`), then the raw bytes.
 */

/** A named float32 tensor. */
export interface NamedTensor {
  data: Float32Array;
  shape: number[];
}

/**
 * Encode tensors as a safetensors file.
 * @param metadata - free-form string key/values stored in `__metadata__`
 */
export function encodeSafetensors(tensors: Record<string, NamedTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let offset = 0;
  const names = Object.keys(tensors).sort();
  for (const name of names) {
    const t = tensors[name];
    const expected = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== expected) throw new Error(`tensor "${name}": shape [${t.shape}] needs ${expected} values, got ${t.data.length}`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  // pad the header with spaces so the data starts 8-byte aligned
  while ((8 + json.length) % 8 !== 0) json += ' ';
  const headerBytes = new TextEncoder().encode(json);
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

/** Decode a safetensors file holding F32 tensors. */
export function decodeSafetensors(bytes: Uint8Array): { tensors: Record<string, NamedTensor>; metadata: Record<string, string> } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n))) as Record<string, unknown>;
  const base = 8 + n;
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = info as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = info as { dtype: string; shape: number[]; data_offsets: [number, number] };
    if (dtype !== 'F32') throw new Error(`tensor "${name}" has dtype ${dtype}; only F32 is supported`);
    const count = (data_offsets[1] - data_offsets[0]) / 4;
    const data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = view.getFloat32(base + data_offsets[0] + 4 * i, true);
    tensors[name] = { data, shape };
  }
  return { tensors, metadata };
}

const isLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
