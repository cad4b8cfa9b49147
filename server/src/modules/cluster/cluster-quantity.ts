/**
 * Kubernetes resource quantities (`resource.Quantity`) as plain numbers: CPU in cores, memory in bytes. The metrics
 * API writes CPU in nanocores (`123456789n`) or millicores (`250m`) and memory in binary units (`1024Ki`, `512Mi`);
 * node capacity uses whole cores and `Ki`/`Gi`. Answers null for text that is not a quantity.
 */
const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18 };

const QUANTITY = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|[eE]([+-]?\d+))?$/;

/** The value of a quantity in its base unit (cores for CPU, bytes for memory), or null when `text` is not one. */
export function parseQuantity(text: string | null | undefined): number | null {
  if (typeof text !== 'string') return null;
  const match = QUANTITY.exec(text.trim());
  if (!match) return null;
  const [, number, suffix, exponent] = match;
  const value = Number(number);
  if (!Number.isFinite(value)) return null;
  if (exponent !== undefined) return value * 10 ** Number(exponent);
  const factor = suffix === undefined ? 1 : (BINARY[suffix] ?? DECIMAL[suffix]);
  return factor === undefined ? null : value * factor;
}

/** CPU quantity in millicores (`100m` -> 100, `2` -> 2000, `1500000n` -> 1.5), or null. */
export function cpuMillicores(text: string | null | undefined): number | null {
  const cores = parseQuantity(text);
  return cores === null ? null : cores * 1000;
}

/** Memory quantity in bytes (`1Ki` -> 1024, `1M` -> 1000000), rounded to whole bytes, or null. */
export function memoryBytes(text: string | null | undefined): number | null {
  const bytes = parseQuantity(text);
  return bytes === null ? null : Math.round(bytes);
}

/** `part` as a percentage of `whole`, rounded to 0.1; null when either is unknown or the whole is not positive. */
export function percentOf(part: number | null, whole: number | null): number | null {
  if (part === null || whole === null || !(whole > 0)) return null;
  return Math.round((part / whole) * 1000) / 10;
}
