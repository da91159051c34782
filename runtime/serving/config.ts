// What the model server serves: one entry per model (name, base path, version policy, version labels), from
// the command line or from a config file in the JSON form of TensorFlow Serving's ModelServerConfig
// (model_config_list.config[]), so an existing TF Serving config carries over.

import * as fs from 'fs';
import * as path from 'path';
import { z } from 'zod';
import { UserError } from '../core/errors';
import { formatZodIssues } from '../core/executor-io';

/** Which committed versions of a model to keep loaded (TF Serving's ServableVersionPolicy). */
export type VersionPolicy = { kind: 'latest'; numVersions: number } | { kind: 'all' } | { kind: 'specific'; versions: number[] };

export interface ModelConfig {
  name: string;
  /** Local folder holding <version>/ subfolders, each a serving bundle published with a commit marker. */
  basePath: string;
  policy: VersionPolicy;
  /** Version labels (e.g. stable, canary) → version. */
  labels: Record<string, number>;
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
    version_labels: z.record(z.string().regex(/^[^/:]+$/, 'a label cannot contain "/" or ":"'), int64).optional(),
  })
  .strict();

const ModelServerConfig = z.object({ model_config_list: z.object({ config: z.array(ModelConfigEntry).min(1) }).strict() }).strict();

function policyOf(p: z.output<typeof ModelConfigEntry>['model_version_policy']): VersionPolicy {
  if (!p) return DEFAULT_POLICY;
  if ('all' in p) return { kind: 'all' };
  if ('specific' in p) return { kind: 'specific', versions: p.specific.versions };
  return { kind: 'latest', numVersions: p.latest.num_versions ?? 1 };
}

/** Parses a ModelServerConfig JSON value; relative base paths are taken from the config file's folder. */
export function parseModelServerConfig(raw: unknown, file: string): ModelConfig[] {
  const parsed = ModelServerConfig.safeParse(raw);
  if (!parsed.success) throw new UserError(`invalid model config ${file}: ${formatZodIssues(parsed.error.issues)}`);
  const models = parsed.data.model_config_list.config.map((c) => ({
    name: c.name,
    basePath: path.resolve(path.dirname(file), c.base_path),
    policy: policyOf(c.model_version_policy),
    labels: c.version_labels ?? {},
  }));
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
