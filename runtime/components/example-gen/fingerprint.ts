// ExampleGen's external inputs for the cache key: which span/version the patterns resolve to now and a
// hash of the matched files' names, sizes and (locally) modification times — so a new span, a new version
// or a rewritten file is a cache miss, while an unchanged input folder is reused.

import * as fs from 'fs';
import type { ExternalInputs } from '../../core/component';
import { canonicalJson, sha256Hex } from '../../core/canonical-json';
import { localPathOf } from '../../storage';
import { resolveInputs } from './input-patterns';
import { rangeOf, type ExampleGenParameters } from './parameters';

export async function exampleGenInputs(p: ExampleGenParameters): Promise<ExternalInputs> {
  const resolved = await resolveInputs(p.input_base, p.input_splits, rangeOf(p));
  const files: [string, number, number][] = [];
  for (const split of resolved.splits) {
    for (const uri of split.files) {
      const local = localPathOf(uri);
      const mtime = local ? (await fs.promises.stat(local)).mtimeMs : 0;
      files.push([uri, resolved.sizes.get(uri) ?? -1, mtime]);
    }
  }
  const spans = resolved.spans.length === 1 ? `span ${resolved.spans[0]}` : `spans ${resolved.spans[0]}-${resolved.spans[resolved.spans.length - 1]}`;
  return {
    fingerprint: sha256Hex(canonicalJson({ spans: resolved.spans, version: resolved.version, files })),
    summary: `${spans} version ${resolved.version}: ${files.length} file${files.length === 1 ? '' : 's'}`,
  };
}
