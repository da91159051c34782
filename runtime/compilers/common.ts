// What every compiler needs from a pipeline: the nodes in topological order with their wiring resolved,
// parameter types from the zod schemas (as KFP names them), the container command line of the component
// contract, deterministic artifact URIs under the pipeline root, and the per-step ExecutorInput template
// that Argo and Airflow fill in with their own placeholders.

import * as path from 'path';
import { z } from 'zod';
import { ArtifactPropertyRef, PipelineParam, type Condition, type OutputChannel, type Pipeline, type PipelineNode, type ResourceSpec } from '../../pipelines/dsl/pipeline';
import { resolverComponent } from '../../pipelines/dsl/resolver';
import type { AnyComponent } from '../core/component';
import type { ExecutorInput } from '../core/executor-io';
import { UserError } from '../core/errors';
import type { ShardsOption } from '../core/sharding';
import { jsonTypes, type JsonSchema } from '../core/json-schema-types';
import { redactUrl, urlHasPassword } from '../core/redact-url';
import { isContainerComponent } from '../components/container/spec';
import { kfpArtifactType } from './kfp-artifact-types';
import { compileStrategy, RESOLVER_CURRENT_PORT, type CompiledStrategy } from '../runner/step-protocol';

/** Where the runtime images install the package (runtime/images/Dockerfile): files it ships are found there. */
export const IMAGE_APP_DIR = '/opt/mlp';
/** This package's root, in a checkout or an install; files under it are shipped in the image at IMAGE_APP_DIR. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

export const TARGETS = ['argo', 'kfp', 'airflow'] as const;
export type Target = (typeof TARGETS)[number];

/** KFP v2 parameter types (pipeline_spec.proto ParameterType). */
export type ParameterType = 'STRING' | 'NUMBER_INTEGER' | 'NUMBER_DOUBLE' | 'BOOLEAN' | 'LIST' | 'STRUCT';

export interface ParameterInfo {
  type: ParameterType;
  /** The value used when none is given (zod's default). */
  default?: unknown;
  /** Not required: it has a default or is optional in the schema. */
  optional: boolean;
  description?: string;
}

/** A condition on a pipeline parameter, the only kind the compilers emit. */
export interface ParamCondition {
  param: string;
  op: Condition['op'];
  value: string | number | boolean;
}

export interface RetrySettings {
  maxRetries: number;
  backoffSeconds: number;
  backoffFactor: number;
  maxBackoffSeconds: number;
}

/** A node as the compilers see it: ids instead of objects, defaults applied. */
export interface CompiledNode {
  id: string;
  component: AnyComponent;
  /** Input port → upstream outputs, in wiring order. */
  inputs: Record<string, { producer: string; port: string }[]>;
  /** The component's parameters: types, defaults, descriptions. */
  parameterInfo: Record<string, ParameterInfo>;
  /** Literal parameter values, as set on the node. */
  literals: Record<string, unknown>;
  /** Parameter name → pipeline parameter it takes its value from. */
  params: Record<string, string>;
  upstream: string[];
  retry?: RetrySettings;
  resources?: ResourceSpec;
  cache: boolean;
  /** Its own condition and those of every node it depends on: a skipped node skips its dependents, as locally. */
  conditions: ParamCondition[];
  /** Set on resolver nodes: a step that picks the artifact from the metadata store (never cached by the engine). */
  resolver?: CompiledStrategy;
  /** Set on sharded nodes (runtime/core/sharding.ts): plan, shard steps in parallel, merge. */
  shards?: ShardsOption;
}

export interface CompilePlanOptions {
  /**
   * Resources to set on nodes by id, merged over what the pipeline asks for (e.g. a GPU for the trainer when
   * the environment has GPU nodes: `mlp compile --gpu trainer=nvidia-l4`).
   */
  resources?: Record<string, ResourceSpec>;
}

export interface CompiledPipeline {
  name: string;
  description?: string;
  parameters: Record<string, ParameterInfo>;
  nodes: CompiledNode[];
}

/** Validates the pipeline and turns it into what the compilers emit from; refuses what a target cannot express. */
export function compilePlan(pipeline: Pipeline, target: Target, opts: CompilePlanOptions = {}): CompiledPipeline {
  const order = pipeline.validate();
  const byId = new Map<string, CompiledNode>();
  for (const id of Object.keys(opts.resources ?? {})) {
    if (!order.some((n) => n.id === id)) throw new UserError(`pipeline ${pipeline.name} has no node "${id}" to set resources on (nodes: ${order.map((n) => n.id).join(', ')})`);
  }
  for (const node of order) {
    const compiled = node.resolver ? compileResolver(node, byId) : compileNode(node, target, byId);
    const extra = opts.resources?.[node.id];
    if (extra) compiled.resources = { ...compiled.resources, ...extra };
    byId.set(node.id, compiled);
  }
  const parameters = parameterInfo(pipeline.parameterSchema, `pipeline ${pipeline.name}`);
  for (const p of Object.values(parameters)) if (p.default !== undefined) p.default = relocate(p.default);
  return {
    name: pipeline.name,
    description: pipeline.description,
    parameters,
    nodes: [...byId.values()],
  };
}

/**
 * Paths inside this package (e.g. flights' schema file next to its module) as the image sees them: the
 * package is installed at IMAGE_APP_DIR there, wherever it was compiled.
 */
export function relocate<T>(value: T): T {
  if (typeof value === 'string') {
    return (value === PACKAGE_ROOT || value.startsWith(`${PACKAGE_ROOT}${path.sep}`) ? `${IMAGE_APP_DIR}${value.slice(PACKAGE_ROOT.length).split(path.sep).join('/')}` : value) as T;
  }
  if (Array.isArray(value)) return value.map(relocate) as T;
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, relocate(v)])) as T;
  return value;
}

/** Conditions of the nodes this one depends on, each once. */
function inheritedConditions(upstream: string[], done: Map<string, CompiledNode>, own: ParamCondition[] = []): ParamCondition[] {
  const conditions = [...own];
  for (const up of upstream) {
    for (const c of done.get(up)!.conditions) {
      if (!conditions.some((x) => x.param === c.param && x.op === c.op && x.value === c.value)) conditions.push(c);
    }
  }
  return conditions;
}

/**
 * A resolver node as a step: `mlp component run mlp.Resolver` with the strategy and artifact type as
 * parameters and, for previous-span / latest-blessed-model with `excluding`, the artifact it is relative to as
 * the optional input `current`.
 */
function compileResolver(node: PipelineNode, done: Map<string, CompiledNode>): CompiledNode {
  const strategy = node.resolver!;
  const type = node.component.outputs.result.type;
  const related: OutputChannel | undefined = strategy.kind === 'previous-span' ? strategy.of : strategy.kind === 'latest-blessed-model' ? strategy.excluding : undefined;
  const base = resolverComponent(type);
  const component: AnyComponent = {
    ...base,
    inputs: related ? { [RESOLVER_CURRENT_PORT]: { type: related.type, optional: true } } : {},
    parameters: z.object({
      artifact_type: z.string().describe('Type of the artifact to resolve'),
      strategy: z.record(z.string(), z.unknown()).describe('How to pick it (kind and its settings)'),
    }),
  };
  const upstream = node.upstream().map((n) => n.id);
  return {
    id: node.id,
    component,
    inputs: related ? { [RESOLVER_CURRENT_PORT]: [{ producer: related.node.id, port: related.port }] } : {},
    parameterInfo: parameterInfo(component.parameters, `node ${node.id}`),
    literals: { artifact_type: type.name, strategy: compileStrategy(strategy) },
    params: {},
    upstream,
    cache: false,
    conditions: inheritedConditions(upstream, done),
    resolver: compileStrategy(strategy),
  };
}

function compileNode(node: PipelineNode, target: Target, done: Map<string, CompiledNode>): CompiledNode {
  const literals: Record<string, unknown> = {};
  const params: Record<string, string> = {};
  for (const [name, value] of Object.entries(node.parameters)) {
    if (value instanceof PipelineParam) params[name] = value.name;
    else literals[name] = relocate(value);
  }
  const info = parameterInfo(node.component.parameters, `node ${node.id}`);
  const missing = Object.keys(info).filter((k) => !info[k].optional && !(k in node.parameters));
  if (missing.length) throw new UserError(`node ${node.id}: required parameter ${missing.join(', ')} of ${node.component.name} is not set`);

  const conditions: ParamCondition[] = [];
  if (node.condition) {
    if (node.condition.left instanceof ArtifactPropertyRef) {
      throw new UserError(`node ${node.id}: conditions on artifact properties are not supported by the ${target} compiler yet`);
    }
    conditions.push({ param: node.condition.left.name, op: node.condition.op, value: node.condition.right });
  }
  const upstream = node.upstream().map((n) => n.id);
  const r = node.retry;
  return {
    id: node.id,
    component: node.component,
    inputs: Object.fromEntries([...node.inputs].map(([port, chs]) => [port, chs.map((ch) => ({ producer: ch.node.id, port: ch.port }))])),
    parameterInfo: info,
    literals,
    params,
    upstream,
    retry: r && r.maxRetries > 0
      ? { maxRetries: r.maxRetries, backoffSeconds: r.backoffSeconds ?? 1, backoffFactor: r.backoffFactor ?? 2, maxBackoffSeconds: r.maxBackoffSeconds ?? 60 }
      : undefined,
    // A container component's own resources are its default; the node's replace them.
    resources: node.resources ?? (isContainerComponent(node.component) ? node.component.container.resources : undefined),
    cache: node.cache,
    conditions: inheritedConditions(upstream, done, conditions),
    ...(node.shards !== undefined && node.shards !== 1 ? { shards: node.shards } : {}),
  };
}

const JSON_TO_KFP: Record<string, ParameterType> = {
  string: 'STRING',
  integer: 'NUMBER_INTEGER',
  number: 'NUMBER_DOUBLE',
  boolean: 'BOOLEAN',
  array: 'LIST',
  object: 'STRUCT',
};

/** Parameter types, defaults and descriptions of a zod object schema, via its JSON Schema (input side, so defaults count as optional). */
export function parameterInfo(schema: z.ZodObject<z.ZodRawShape>, where: string): Record<string, ParameterInfo> {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as { properties?: Record<string, JsonSchema>; required?: string[] };
  const required = new Set(json.required ?? []);
  const out: Record<string, ParameterInfo> = {};
  for (const [name, prop] of Object.entries(json.properties ?? {})) {
    const types = new Set(jsonTypes(prop).filter((t) => t !== 'null'));
    // An integer in a union with floats is still a number; anything else mixed has no KFP type.
    if (types.has('integer') && types.has('number')) types.delete('integer');
    if (types.size !== 1) throw new UserError(`${where}: parameter "${name}" has no single KFP type (JSON Schema types: ${[...types].join(', ') || 'none'})`);
    const [type] = [...types];
    out[name] = {
      type: JSON_TO_KFP[type],
      ...(prop.default !== undefined ? { default: prop.default } : {}),
      optional: !required.has(name),
      ...(prop.description ? { description: prop.description } : {}),
    };
  }
  return out;
}

/** The container entry point of every step; the ExecutorInput JSON follows as the last argument. */
export function componentCommand(componentName: string): string[] {
  return ['mlp', 'component', 'run', componentName, '--executor-input'];
}

/**
 * Arguments after the ExecutorInput that make a step a cloud step recording to the metadata store
 * (runtime/runner/cloud-step.ts): which pipeline, run and node it is, and whether it may reuse the cache.
 */
export function cloudStepArgs(plan: CompiledPipeline, node: CompiledNode, runId: string): string[] {
  return ['--pipeline', plan.name, '--run-id', runId, '--node', node.id, ...(node.cache || node.resolver ? [] : ['--no-cache'])];
}

/**
 * Compiled pipelines and submitted jobs are read by many and kept: a metadata address with a password is refused,
 * naming what to use instead.
 */
export function refusePasswordInAddress(address: string): void {
  if (urlHasPassword(address)) {
    throw new UserError(
      `--metadata-address ${redactUrl(address)} has a password, which would be written into every step: leave it out and connect as the job's service account (Cloud SQL IAM database authentication, the default) or pass --metadata-password-secret projects/P/secrets/S/versions/V`,
    );
  }
}

/** A key of a Kubernetes Secret, the metadata database password of Argo and Composer pods (env PGPASSWORD). */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/** `name:key` → the Secret's name (a DNS subdomain) and key, or a one-line error naming the flag. */
export function parseSecretKeyRef(text: string): SecretKeyRef {
  const m = /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?):([-._a-zA-Z0-9]{1,253})$/.exec(text);
  if (!m) throw new UserError(`--metadata-password-secret ${JSON.stringify(text)}: expected a Kubernetes Secret and key as NAME:KEY, e.g. mlmd-password:password`);
  return { name: m[1], key: m[3] };
}

/** The variable pg reads the password from; Argo and Composer pods set it from the Secret. */
export const PASSWORD_ENV = 'PGPASSWORD';

/**
 * Arguments of the Cloud SQL Auth Proxy sidecar on the pod's loopback: it logs in as the pod's service account
 * (IAM database authentication, the IAM users the constructs create) unless the password comes from a Secret.
 */
export function cloudSqlProxyArgs(instance: string, passwordSecret?: SecretKeyRef): string[] {
  return [instance, '--private-ip', ...(passwordSecret ? [] : ['--auto-iam-authn']), '--port=5432', '--structured-logs'];
}

/** Resolver nodes read the metadata store, so a target must be given one; names the first resolver otherwise. */
export function requireMetadataForResolvers(plan: CompiledPipeline, hasMetadata: boolean, how: string): void {
  const resolver = plan.nodes.find((n) => n.resolver);
  if (resolver && !hasMetadata) {
    throw new UserError(`node ${resolver.id} is a resolver: it picks its artifact from the metadata store, so the steps need one (${how})`);
  }
}

/**
 * The step that writes a cloud run's `run_finished` line (MlMonitoring's failed-run alert) once the run has ended:
 * the exit handler of Argo and KFP, the Airflow DAG's last task.
 */
export const RUN_FINISHED_STEP = 'mlp-run-finished';

/** The `mlp monitor run-finished` command and its arguments up to the --status and duration flags. */
export function runFinishedCommand(plan: CompiledPipeline, runId: string): { command: string[]; args: string[] } {
  return { command: ['mlp', 'monitor', 'run-finished'], args: ['--pipeline', plan.name, '--run-id', runId] };
}

/** The run_finished step's pod requests: it only writes one line. */
export const RUN_FINISHED_REQUESTS = { cpu: '100m', memory: '256Mi' };

/**
 * A scheduled run gets no parameter values, so every parameter needs a default or must be optional: a required
 * one without a default is refused at compile time (`why`: what the engine would do with it).
 */
export function refuseRequiredParamsWhenScheduled(plan: CompiledPipeline, schedule: string | undefined, why: string): void {
  const required = Object.entries(plan.parameters).filter(([, p]) => !p.optional && p.default === undefined).map(([name]) => name);
  if (schedule !== undefined && required.length) {
    throw new UserError(
      `pipeline ${plan.name}: --schedule ${JSON.stringify(schedule)} needs a value for every parameter, but ${required.join(', ')} ${required.length > 1 ? 'are' : 'is'} required without a default (${why}); give ${required.length > 1 ? 'them defaults' : 'it a default'} in the pipeline or compile without --schedule and trigger runs with their values`,
    );
  }
}

/** Node ids that would clash with a step or template a compiler adds. */
export function refuseReservedIds(plan: CompiledPipeline, reserved: string[], target: string): void {
  const taken = plan.nodes.find((n) => reserved.includes(n.id));
  if (taken) throw new UserError(`pipeline ${plan.name}: node id "${taken.id}" names a step the ${target} compiler adds; rename the node`);
}

/** Where a node's output goes: the same layout as the local runner's, with the run id in place of the execution id. */
function artifactUri(root: string, pipeline: string, node: string, port: string, runId: string): string {
  return `${root.replace(/\/+$/, '')}/${pipeline}/${node}/${port}/${runId}`;
}

/** How a target spells a pipeline parameter inside the ExecutorInput JSON: text that expands to the value as JSON. */
export type ParamPlaceholder = (name: string, info: ParameterInfo) => string;

export interface StepPlaceholders {
  /** The run id in artifact URIs. */
  runId: string;
  param: ParamPlaceholder;
  /**
   * Raw JSON text the engine expands to the metadata (properties such as span and split_names) an upstream
   * step wrote for one output into its ExecutorOutput file.
   */
  upstreamMetadata: (producer: string, port: string) => string;
  /**
   * Raw JSON text (a string) the engine expands to the URI an upstream step reported for one output: where it
   * wrote it, or, for a cached step or a resolver, where the reused artifact lives.
   */
  upstreamUri: (producer: string, port: string) => string;
  /** Where the step writes its ExecutorOutput, for the engine to hand to its dependents. */
  outputFile: string;
  /**
   * The target's spelling of literal text (the ExecutorInput's JSON) in a pod's args (Argo and Airflow:
   * jsonWithoutTagStarts, so the engine's templating sees no tag, and k8sLiteral, so the kubelet's `$(VAR)` expansion
   * passes it on unchanged); the placeholders above, whose values the engine fills in at run time, must escape those
   * values themselves.
   */
  literal: (text: string) => string;
}

/**
 * The ExecutorInput of one step as JSON text with the target's placeholders in it: literal parameters, pipeline
 * parameters, input artifacts at the URIs their producers write to (with the metadata those producers reported)
 * and this step's output URIs, all under the pipeline root.
 */
export function executorInputTemplate(plan: CompiledPipeline, node: CompiledNode, root: string, ph: StepPlaceholders): string {
  const marks = new Map<string, string>();
  const mark = (raw: string): string => {
    const m = `@@mlp-placeholder-${marks.size}@@`;
    marks.set(JSON.stringify(m), raw);
    return m;
  };
  const parameterValues: Record<string, unknown> = { ...node.literals };
  for (const [name, param] of Object.entries(node.params)) {
    parameterValues[name] = mark(ph.param(param, plan.parameters[param]));
  }
  const input: ExecutorInput = {
    inputs: {
      parameterValues,
      artifacts: Object.fromEntries(
        Object.entries(node.inputs).map(([port, chs]) => [
          port,
          {
            artifacts: chs.map((ch) => ({
              type: kfpArtifactType(node.component.inputs[port].type, `node ${node.id} input ${port}`),
              uri: mark(ph.upstreamUri(ch.producer, ch.port)),
              metadata: mark(ph.upstreamMetadata(ch.producer, ch.port)) as unknown as Record<string, unknown>,
            })),
          },
        ]),
      ),
    },
    outputs: {
      artifacts: Object.fromEntries(
        Object.entries(node.component.outputs).map(([port, spec]) => [
          port,
          { artifacts: [{ type: kfpArtifactType(spec.type, `node ${node.id} output ${port}`), uri: artifactUri(root, plan.name, node.id, port, RUN_ID_MARK) }] },
        ]),
      ),
      outputFile: ph.outputFile,
    },
  };
  // Everything but the placeholders is literal text; the run id is the engine's (and may hold a deliberate reference).
  let text = ph.literal(JSON.stringify(input)).split(RUN_ID_MARK).join(ph.runId);
  for (const [m, raw] of marks) text = text.replace(m, () => raw);
  return text;
}

/** Where the run id goes in the ExecutorInput's URIs until the literal text around it is escaped. */
const RUN_ID_MARK = '@@mlp-run-id@@';

// Docker's reference grammar (distribution/reference): [domain[:port]/]path-components, then :tag and/or @digest.
const IMAGE_NAME = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*`;
const IMAGE_REF = new RegExp(String.raw`^${IMAGE_NAME}(:[\w][\w.-]{0,127})?(?:@(.*))?$`);
const SHA256_DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * Refuses what is not an image reference pinned by a tag other than `latest` (`REPO:TAG`) or a digest
 * (`REPO@sha256:<64 hex>`, or both): otherwise pods would run whatever `:latest` is when they start. A
 * digest-pinned reference is written into every step as it is given; tags are mutable, digests are not.
 */
export function checkImageRef(ref: string, flag: string): void {
  const m = IMAGE_REF.exec(ref);
  if (!m) throw new UserError(`${flag} ${JSON.stringify(ref)} is not an image reference REPOSITORY:TAG or REPOSITORY@sha256:DIGEST, e.g. us-docker.pkg.dev/PROJECT/mlp/runtime@sha256:<64 hex digits>`);
  const [, tag, digest] = m;
  if (digest !== undefined && !SHA256_DIGEST.test(digest)) throw new UserError(`${flag} ${JSON.stringify(ref)}: the digest after @ must be sha256: and 64 lowercase hex digits, got "${digest}"`);
  if (digest === undefined && (tag === undefined || tag === ':latest')) {
    // As the workload constructs refuse them (constructs/workload-common.ts; the runtime does not import constructs).
    throw new UserError(`${flag} ${JSON.stringify(ref)} ${tag ? 'is tagged latest' : 'names no tag or digest'}, so pods would run whatever :latest is when they start: pin a digest (REPOSITORY@sha256:<64 hex digits>) or at least the commit's tag`);
  }
}

/** The runtime images of a target's options, each checked as its flag. */
export function checkImages(opts: { image: string; gpuImage?: string }): void {
  checkImageRef(opts.image, '--image');
  if (opts.gpuImage !== undefined) checkImageRef(opts.gpuImage, '--gpu-image');
}

/** The image a node's step runs: the GPU image for nodes with GPUs when there is one, else the image. */
export function imageFor(node: CompiledNode, image: string, gpuImage?: string): string {
  return node.resources?.accelerator && gpuImage ? gpuImage : image;
}

export interface PodPlacement {
  requests: Record<string, string>;
  limits: Record<string, string>;
  nodeSelector: Record<string, string>;
  tolerations: { key: string; operator: 'Exists'; effect: 'NoSchedule' }[];
}

/**
 * Kubernetes resources and GKE placement of a node's pod: CPU/memory requests (memory also as the limit),
 * GPUs by accelerator label and the nvidia.com/gpu taint and limit, TPUs by accelerator and topology labels
 * and google.com/tpu. Quantities are strings, as the Kubernetes schema wants.
 */
export function podPlacement(node: CompiledNode): PodPlacement {
  const res = node.resources;
  const out: PodPlacement = { requests: {}, limits: {}, nodeSelector: {}, tolerations: [] };
  if (res?.cpu) out.requests.cpu = res.cpu;
  if (res?.memory) out.requests.memory = out.limits.memory = res.memory;
  if (res?.accelerator) {
    out.nodeSelector['cloud.google.com/gke-accelerator'] = res.accelerator.type;
    out.tolerations.push({ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' });
    out.limits['nvidia.com/gpu'] = String(res.accelerator.count);
  }
  if (res?.tpu) {
    out.nodeSelector['cloud.google.com/gke-tpu-accelerator'] = res.tpu.type;
    out.nodeSelector['cloud.google.com/gke-tpu-topology'] = res.tpu.topology;
    out.tolerations.push({ key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' });
    out.requests['google.com/tpu'] = out.limits['google.com/tpu'] = String(tpuChips(node.id, res.tpu));
  }
  return out;
}

/** Chips of a single-host TPU slice (the product of the topology); multi-host slices need a JobSet, which no target emits. */
function tpuChips(node: string, tpu: { type: string; topology: string }): number {
  if (!/^\d+(x\d+)*$/.test(tpu.topology)) throw new UserError(`node ${node}: TPU topology "${tpu.topology}" must look like 2x4`);
  const chips = tpu.topology.split('x').reduce((a, b) => a * Number(b), 1);
  if (chips > 8) throw new UserError(`node ${node}: TPU topology ${tpu.topology} (${chips} chips) spans several hosts; only single-host slices (≤ 8 chips) are supported`);
  return chips;
}
