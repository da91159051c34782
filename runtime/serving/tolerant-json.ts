// JSON with the bare NaN, Infinity and -Infinity tokens TensorFlow Serving's REST API allows in requests and
// responses ("JSON conformance" in its api_rest.md; Python's json module and proto3 JSON read and write them):
// parsing request bodies that carry them, and writing responses whose numbers are not all finite.

import { randomBytes } from 'crypto';

const TOKENS: Record<string, number> = { NaN: Number.NaN, Infinity: Number.POSITIVE_INFINITY, '-Infinity': Number.NEGATIVE_INFINITY };
const N = 'N'.charCodeAt(0);
const I = 'I'.charCodeAt(0);
const MINUS = '-'.charCodeAt(0);
const QUOTE = '"'.charCodeAt(0);
const BACKSLASH = '\\'.charCodeAt(0);

/** Parses JSON text; bare NaN / Infinity / -Infinity outside strings become those numbers. Throws SyntaxError. */
export function parseTolerantJson(text: string): unknown {
  // Most bodies are plain JSON: parsed as they are, without a scan for the tokens first (JSON.parse refuses
  // every body that has one, so the rewrite below is only tried then).
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!text.includes('NaN') && !text.includes('Infinity')) throw err;
  }
  // Each bare token becomes a string holding a random tag (no client can send it by chance), turned back
  // into its number by the reviver.
  const tag = `${randomBytes(12).toString('hex')}:`;
  let out = '';
  let copied = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
      continue;
    }
    if (c === QUOTE) {
      inString = true;
      continue;
    }
    if (c !== N && c !== I && c !== MINUS) continue;
    const token = Object.keys(TOKENS).find((t) => text.startsWith(t, i));
    if (!token) continue;
    out += `${text.slice(copied, i)}"${tag}${token}"`;
    i += token.length - 1;
    copied = i + 1;
  }
  if (copied === 0) return JSON.parse(text);
  out += text.slice(copied);
  return JSON.parse(out, (_key, value) => (typeof value === 'string' && value.startsWith(tag) ? TOKENS[value.slice(tag.length)] : value));
}

/** JSON.stringify, but non-finite numbers are written as the bare NaN / Infinity / -Infinity tokens (not null). */
export function stringifyTolerantJson(value: unknown): string {
  // Each non-finite number becomes a string holding a random tag, then the quoted tag becomes the bare token.
  const tag = `${randomBytes(12).toString('hex')}:`;
  const text = JSON.stringify(value, (_key, v) => (typeof v === 'number' && !Number.isFinite(v) ? `${tag}${v}` : v));
  return text.replace(new RegExp(`"${tag}(NaN|Infinity|-Infinity)"`, 'g'), '$1');
}
