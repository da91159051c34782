// Resolves ExampleGen's input patterns to files: compiles a pattern ({SPAN}, {SPAN:n}, {VERSION}, {VERSION:n},
// {YYYY}{MM}{DD}, * and ?) to a matcher, lists the input base through the storage layer (local or gs://), and
// picks the spans the range asks for, each at its latest version. Date patterns give span = days since 1970-01-01.

import { UserError } from '../../core/errors';
import { joinUri, storageFor } from '../../storage';
import type { RangeConfig } from './parameters';

export interface PatternMatch {
  span: number;
  version: number;
}

export interface CompiledPattern {
  pattern: string;
  hasSpan: boolean;
  hasVersion: boolean;
  /** Span and version of a path relative to the input base, or undefined when it does not match. */
  match(relativePath: string): PatternMatch | undefined;
}

const TOKEN = /\{([A-Z]+)(?::(\d+))?\}|\*|\?|[^{*?]+|\{/g;
const MS_PER_DAY = 86_400_000;

export function compilePattern(pattern: string): CompiledPattern {
  const groups: string[] = [];
  let source = '';
  for (const m of pattern.matchAll(TOKEN)) {
    const [tok, name, width] = m;
    if (tok === '*') source += '[^/]*';
    else if (tok === '?') source += '[^/]';
    else if (name === undefined) {
      if (tok === '{') throw new UserError(`input pattern "${pattern}": unmatched "{" (placeholders are {SPAN}, {SPAN:n}, {VERSION}, {VERSION:n}, {YYYY}, {MM}, {DD})`);
      source += tok.replace(/[.+^$()|[\]\\]/g, '\\$&');
    } else {
      const fixed = { YYYY: 4, MM: 2, DD: 2 }[name as 'YYYY' | 'MM' | 'DD'];
      if (!['SPAN', 'VERSION'].includes(name) && !(fixed && width === undefined)) {
        throw new UserError(`input pattern "${pattern}": unknown placeholder ${tok}`);
      }
      if (groups.includes(name)) throw new UserError(`input pattern "${pattern}": ${tok} appears twice`);
      groups.push(name);
      source += `(\\d{${fixed ?? width ?? '1,'}})`;
    }
  }
  const date = ['YYYY', 'MM', 'DD'].filter((g) => groups.includes(g));
  if (date.length > 0 && date.length < 3) throw new UserError(`input pattern "${pattern}": a date needs all of {YYYY}, {MM} and {DD}`);
  if (date.length && groups.includes('SPAN')) throw new UserError(`input pattern "${pattern}": use {SPAN} or a date, not both`);
  const hasSpan = groups.includes('SPAN') || date.length === 3;
  const hasVersion = groups.includes('VERSION');
  if (hasVersion && !hasSpan) throw new UserError(`input pattern "${pattern}": {VERSION} needs {SPAN} or {YYYY}{MM}{DD}`);
  const re = new RegExp(`^${source}$`);
  return {
    pattern,
    hasSpan,
    hasVersion,
    match(relativePath) {
      const m = re.exec(relativePath);
      if (!m) return undefined;
      const value = (g: string) => Number(m[groups.indexOf(g) + 1]);
      let span = groups.includes('SPAN') ? value('SPAN') : 0;
      if (date.length) {
        const [y, mo, d] = [value('YYYY'), value('MM'), value('DD')];
        const t = Date.UTC(y, mo - 1, d);
        const back = new Date(t);
        // Not a calendar date (month 13, 31 February): not a span file.
        if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
        span = t / MS_PER_DAY;
      }
      return { span, version: hasVersion ? value('VERSION') : 0 };
    },
  };
}

export interface ResolvedSplit {
  name: string;
  /** Input file URIs, sorted. */
  files: string[];
}

export interface ResolvedInput {
  /** The spans read, ascending; the artifact's span property is the last one. */
  spans: number[];
  /** Version of the last span (0 when the patterns have no {VERSION}). */
  version: number;
  splits: ResolvedSplit[];
  /** Size in bytes of every listed file under the input base, by URI (from the same listing). */
  sizes: Map<string, number>;
}

interface Candidate {
  uri: string;
  span: number;
  version: number;
}

/** Which of the available spans a range selects (ascending); an error explaining what is missing. */
export function selectSpans(available: number[], range: RangeConfig, where: string): number[] {
  const spans = [...new Set(available)].sort((a, b) => a - b);
  if (spans.length === 0) throw new UserError(`${where}: no input files match`);
  if (range.type === 'latest') return [spans[spans.length - 1]];
  if (range.type === 'static') {
    if (range.end_span < range.start_span) throw new UserError(`${where}: static range end_span ${range.end_span} is before start_span ${range.start_span}`);
    const missing: number[] = [];
    for (let s = range.start_span; s <= range.end_span; s++) if (!spans.includes(s)) missing.push(s);
    if (missing.length) {
      const shown = missing.length > 10 ? `${missing.slice(0, 10).join(', ')}, ...` : missing.join(', ');
      throw new UserError(`${where}: static range [${range.start_span}, ${range.end_span}] is missing span(s) ${shown} (available: ${spans[0]}..${spans[spans.length - 1]})`);
    }
    return spans.filter((s) => s >= range.start_span && s <= range.end_span);
  }
  const eligible = spans.filter((s) => s >= range.start_span);
  if (eligible.length === 0) throw new UserError(`${where}: rolling range finds no span >= ${range.start_span} (latest is ${spans[spans.length - 1]})`);
  return eligible.slice(-range.num_spans);
}

/** Files of the selected spans, each span at its latest version. */
function pick(candidates: Candidate[], range: RangeConfig, where: string): { spans: number[]; versions: number[]; files: string[] } {
  const spans = selectSpans(candidates.map((c) => c.span), range, where);
  const versions = spans.map((s) => Math.max(...candidates.filter((c) => c.span === s).map((c) => c.version)));
  const files = candidates
    .filter((c) => versions[spans.indexOf(c.span)] === c.version)
    .map((c) => c.uri)
    .sort();
  return { spans, versions, files };
}

/**
 * Lists `base` once and resolves every split's pattern. Predefined splits must resolve to the same spans and
 * versions (they are parts of one dataset).
 */
export async function resolveInputs(base: string, splits: { name: string; pattern: string }[], range: RangeConfig): Promise<ResolvedInput> {
  const compiled = splits.map((s) => compilePattern(s.pattern));
  const spanful = compiled.filter((c) => c.hasSpan).length;
  if (spanful !== 0 && spanful !== compiled.length) throw new UserError(`input patterns: either every split pattern has a span placeholder or none has`);
  if (range.type !== 'latest' && spanful === 0) throw new UserError(`a ${range.type} range needs {SPAN} or {YYYY}{MM}{DD} in the input patterns`);
  const root = base.replace(/\/+$/, '');
  const listed = await storageFor(root).list(root);
  const prefix = joinUri(root, 'x').slice(0, -1);
  const resolved = splits.map((split, i) => {
    const candidates: Candidate[] = [];
    for (const { uri } of listed) {
      const m = uri.startsWith(prefix) ? compiled[i].match(uri.slice(prefix.length)) : undefined;
      if (m) candidates.push({ uri, ...m });
    }
    const where = `input split "${split.name}" (pattern ${split.pattern} under ${base})`;
    return { name: split.name, ...pick(candidates, range, where) };
  });
  const first = resolved[0];
  for (const r of resolved.slice(1)) {
    if (JSON.stringify([r.spans, r.versions]) !== JSON.stringify([first.spans, first.versions])) {
      throw new UserError(
        `input splits "${first.name}" and "${r.name}" resolve to different spans/versions (${describe(first)} vs ${describe(r)})`,
      );
    }
  }
  return {
    spans: first.spans,
    version: first.versions[first.versions.length - 1],
    splits: resolved.map(({ name, files }) => ({ name, files })),
    sizes: new Map(listed.map((e) => [e.uri, e.size])),
  };
}

function describe(r: { spans: number[]; versions: number[] }): string {
  return r.spans.map((s, i) => `span ${s} version ${r.versions[i]}`).join(', ');
}
