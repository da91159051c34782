// What the model server serves: one entry per model (name, base path, version policy, version labels), from
// the command line or from a config file in the JSON form of TensorFlow Serving's ModelServerConfig
// (model_config_list.config[]), so an existing TF Serving config carries over. Two fields of our own per
// entry, both optional: `traffic` (a weighted split or a bandit over versions / labels, for requests that
// name neither) and `static_table` (precomputed predictions answering requests whose key they hold).

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { UserError } from '../core/errors';
import { formatZodIssues } from '../core/executor-io';
import { isLocalUri, localPathOf } from '../storage';

/** Which committed versions of a model to keep loaded (TF Serving's ServableVersionPolicy). */
export type VersionPolicy = { kind: 'latest'; numVersions: number } | { kind: 'all' } | { kind: 'specific'; versions: number[] };

export interface ModelConfig {
  name: string;
  /** Local folder holding <version>/ subfolders, each a serving bundle published with a commit marker. */
  basePath: string;
  policy: VersionPolicy;
  /** Version labels (e.g. stable, canary) → version. */
  labels: Record<string, number>;
  /** How requests that name no version or label are spread over versions; absent: the newest answers. */
  traffic?: TrafficPolicy;
  /** Precomputed predictions (BulkInferrer Parquet) keyed by a field of the request instances. */
  staticTable?: StaticTableConfig;
}

/** A traffic target: a version number or a version label (resolved when the request arrives). */
export type Arm = { version: number } | { label: string };

export type BanditAlgorithm = 'thompson' | 'ucb1';

export type TrafficPolicy = { kind: 'split'; arms: { arm: Arm; weight: number }[] } | { kind: 'bandit'; algorithm: BanditAlgorithm; arms: Arm[] };

export interface StaticTableConfig {
  /** A Parquet file (local or gs://) with the key column and BulkInferrer's output columns. */
  path: string;
  /** The key column of the table, and the request field it is looked up by. */
  key: string;
}

/** How an arm is named in logs and messages: the label, or the version number. */
export function armName(arm: Arm): string {
  return 'label' in arm ? arm.label : String(arm.version);
}

export const DEFAULT_POLICY: VersionPolicy = { kind: 'latest', numVersions: 1 };

/** The versions a policy keeps, newest first, out of the loadable versions on disk. */
export function versionsToServe(policy: VersionPolicy, loadable: number[]): number[] {
  const newestFirst = [...loadable].sort((a, b) => b - a);
  switch (policy.kind) {
    case 'latest':
      return newestFirst.slice(0, policy.numVersions);
    case 'all':
      return newestFirst;
    case 'specific':
      return newestFirst.filter((v) => policy.versions.includes(v));
  }
}

// proto3 JSON writes int64 as strings; hand-written files use numbers. Both are read.
const int64 = z.union([z.number().int().nonnegative(), z.string().regex(/^\d+$/, 'expected a whole number').transform(Number)]);

const label = z.string().regex(/^[^/:]+$/, 'a label cannot contain "/" or ":"');
const arm = z.union([z.object({ version: int64 }).strict(), z.object({ label }).strict()]);

const traffic = z.union([
  z.object({ split: z.array(z.intersection(arm, z.object({ weight: z.number().positive().finite() }))).min(1) }).strict(),
  z.object({ bandit: z.object({ algorithm: z.enum(['thompson', 'ucb1']).default('thompson'), arms: z.array(arm).min(2) }).strict() }).strict(),
]);

const ModelConfigEntry = z
  .object({
    name: z.string().regex(/^[^/:]+$/, 'a model name cannot contain "/" or ":"'),
    base_path: z.string().min(1),
    model_platform: z.string().optional(),
    model_version_policy: z
      .union([
        z.object({ latest: z.object({ num_versions: int64.refine((n) => n >= 1, 'num_versions must be ≥ 1').optional() }).strict() }).strict(),
        z.object({ all: z.object({}).strict() }).strict(),
        z.object({ specific: z.object({ versions: z.array(int64).min(1) }).strict() }).strict(),
      ])
      .optional(),
    version_labels: z.record(label, int64).optional(),
    traffic: traffic.optional(),
    static_table: z.object({ path: z.string().min(1), key: z.string().min(1) }).strict().optional(),
  })
  .strict();

const ModelServerConfig = z.object({ model_config_list: z.object({ config: z.array(ModelConfigEntry).min(1) }).strict() }).strict();

function policyOf(p: z.output<typeof ModelConfigEntry>['model_version_policy']): VersionPolicy {
  if (!p) return DEFAULT_POLICY;
  if ('all' in p) return { kind: 'all' };
  if ('specific' in p) return { kind: 'specific', versions: p.specific.versions };
  return { kind: 'latest', numVersions: p.latest.num_versions ?? 1 };
}

function trafficOf(t: z.output<typeof traffic> | undefined): TrafficPolicy | undefined {
  if (!t) return undefined;
  const armOf = (a: z.output<typeof arm>): Arm => ('label' in a ? { label: a.label } : { version: a.version });
  if ('split' in t) return { kind: 'split', arms: t.split.map((a) => ({ arm: armOf(a), weight: a.weight })) };
  return { kind: 'bandit', algorithm: t.bandit.algorithm, arms: t.bandit.arms.map(armOf) };
}

/** Arms must name labels the entry defines, each arm once. */
function checkArms(name: string, policy: TrafficPolicy | undefined, labels: Record<string, number>): string | undefined {
  if (!policy) return undefined;
  const arms = policy.kind === 'split' ? policy.arms.map((a) => a.arm) : policy.arms;
  const unknown = arms.find((a) => 'label' in a && !Object.hasOwn(labels, a.label));
  if (unknown) return `model "${name}": traffic names label "${armName(unknown)}", which version_labels does not define`;
  const names = arms.map((a) => JSON.stringify(a));
  const twice = arms.find((_, i) => names.indexOf(names[i]) !== i);
  if (twice) return `model "${name}": traffic names ${'label' in twice ? 'label' : 'version'} "${armName(twice)}" twice`;
  return undefined;
}

/** A base path or table path of a config file: plain paths relative to the file's folder, URIs (gs://, file://) as they are. */
function resolveUri(file: string, uri: string): string {
  if (!isLocalUri(uri)) return uri;
  return /^file:/i.test(uri) ? localPathOf(uri)! : path.resolve(path.dirname(file), uri);
}

/** Parses a ModelServerConfig JSON value; relative base paths are taken from the config file's folder. */
export function parseModelServerConfig(raw: unknown, file: string): ModelConfig[] {
  const parsed = ModelServerConfig.safeParse(raw);
  if (!parsed.success) throw new UserError(`invalid model config ${file}: ${formatZodIssues(parsed.error.issues)}`);
  const models = parsed.data.model_config_list.config.map((c): ModelConfig => {
    const labels = c.version_labels ?? {};
    const policy = trafficOf(c.traffic);
    const problem = checkArms(c.name, policy, labels);
    if (problem) throw new UserError(`invalid model config ${file}: ${problem}`);
    return {
      name: c.name,
      basePath: resolveUri(file, c.base_path),
      policy: policyOf(c.model_version_policy),
      labels,
      ...(policy ? { traffic: policy } : {}),
      ...(c.static_table ? { staticTable: { path: resolveUri(file, c.static_table.path), key: c.static_table.key } } : {}),
    };
  });
  const names = models.map((m) => m.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new UserError(`invalid model config ${file}: model "${twice}" is configured twice`);
  return models;
}

export function readModelServerConfig(file: string): ModelConfig[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read model config ${file}: ${(err as Error).message}`);
  }
  try {
    return parseModelServerConfig(JSON.parse(text), file);
  } catch (err) {
    if (err instanceof SyntaxError) throw new UserError(`model config ${file} is not valid JSON (${err.message})`);
    throw err;
  }
}
