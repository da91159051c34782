// Validating generated Kubernetes custom resources (Kueue, JobSet) against the upstream CRDs in ../shared/reference:
// each served version's `openAPIV3Schema`, compiled with Ajv (draft-07 semantics, strict off for the x-kubernetes-*
// keywords). Kubernetes patterns are Go RE2, whose leading inline `(?i)` JavaScript lacks: it becomes the `i` flag.
import * as fs from 'fs';
import * as path from 'path';
import Ajv, { ValidateFunction } from 'ajv';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT } from './cli';

/** `../shared/reference/<project>` next to the repository. */
export function referenceDir(project: 'kueue' | 'jobset'): string {
  return path.join(REPO_ROOT, '..', 'shared', 'reference', project);
}

/** RE2 patterns as JavaScript RegExps: a leading `(?i)` (also after `^`) is the case-insensitive flag. */
function re2(pattern: string, flags: string): RegExp {
  const m = /^(\^?)\(\?i\)/.exec(pattern);
  return m ? new RegExp(m[1] + pattern.slice(m[0].length), `${flags}i`) : new RegExp(pattern, flags);
}
re2.code = 'new RegExp';

/** Validators keyed by `<group>/<version>` + `/<Kind>`, from every CRD file in `dir`. */
export function loadCrdValidators(dir: string): Map<string, ValidateFunction> {
  // One pattern compiler for the whole map: Ajv calls it for every `pattern` keyword.
  const ajv = new Ajv({ strict: false, allErrors: true, code: { regExp: re2 as never } });
  // The formats these CRDs use (Kubernetes' OpenAPI: integer widths, RFC 3339 times).
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= -(2 ** 31) && n < 2 ** 31 });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isSafeInteger(n) });
  ajv.addFormat('date-time', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i);
  const validators = new Map<string, ValidateFunction>();
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort()) {
    for (const doc of parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
      const crd = doc.toJS() as { kind?: string; spec?: { group: string; names: { kind: string }; versions: { name: string; schema: { openAPIV3Schema: object } }[] } };
      if (crd?.kind !== 'CustomResourceDefinition' || !crd.spec) continue;
      for (const v of crd.spec.versions) validators.set(`${crd.spec.group}/${v.name}/${crd.spec.names.kind}`, ajv.compile(v.schema.openAPIV3Schema));
    }
  }
  if (validators.size === 0) throw new Error(`no CustomResourceDefinition found in ${dir}`);
  return validators;
}

/**
 * The schema errors of one object (empty when valid). An object whose apiVersion/kind has no CRD in the map is an
 * error too, so a typo cannot pass as "nothing to check".
 */
export function crdErrors(validators: Map<string, ValidateFunction>, object: { readonly [field: string]: unknown }): string[] {
  const key = `${String(object.apiVersion)}/${String(object.kind)}`;
  const validate = validators.get(key);
  if (!validate) return [`no CRD schema for ${key} (have ${[...validators.keys()].join(', ')})`];
  if (validate(object)) return [];
  return (validate.errors ?? []).map((e) => `${key}${e.instancePath || '/'}: ${e.message}${e.params ? ` ${JSON.stringify(e.params)}` : ''}`);
}
