import { ConfigError, checkInt } from '@tms/data';

/**
 * Turn `--kebab-case value` pairs into a partial config. Values are parsed as
 * JSON when possible (`--steps 2000`, `--sparsities [0,0.9]`), else kept as strings.
 */
export function parseOverrides(pairs: [string, string][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [flag, raw] of pairs) {
    const key = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      if (raw.includes(',')) {
        const items = raw.split(',').map((s) => s.trim());
        // `--sparsities 0,` must not add a model with S = 0
        if (items.some((s) => s === '')) throw new ConfigError(key, 'a comma-separated list without empty items', raw);
        value = items.map((s) => (Number.isNaN(Number(s)) ? s : Number(s)));
      }
    }
    out[key] = value;
  }
  return out;
}

/** A short stable hash of a JSON value (FNV-1a), used to tie checkpoints to their config. */
export function configHash(value: unknown): string {
  const s = JSON.stringify(value);
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/**
 * An integer option given as text (`--workers 4`): digits become a number,
 * anything else is handed on as given, so the error names the option and the
 * allowed range.
 *
 * @throws ConfigError naming `field` unless `raw` is an integer in [min, max]
 */
export function intOption(raw: unknown, field: string, min: number, max: number): number {
  return checkInt(typeof raw === 'string' && /^\d+$/.test(raw) ? Number(raw) : raw, field, min, max);
}
