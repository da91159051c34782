// The pipeline DSL: a pipeline is plain TypeScript that instantiates components as nodes, wires
// `upstream.outputs.x` into downstream inputs, declares run-time parameters and per-node options (retry,
// resources, caching, condition). Structural mistakes are refused when the pipeline is built, naming the
// node and the port.

import { z } from 'zod';
import type { AnyComponent } from '../../runtime/core/component';
import type { ArtifactType } from '../../runtime/core/artifact-types';
import { UserError } from '../../runtime/core/errors';
import { formatZodIssues } from '../../runtime/core/executor-io';
import { checkShardsOption, type ShardsOption } from '../../runtime/core/sharding';
import { withDistribution } from '../../runtime/components/container/spec';
import type { DistributionSpec, TpuSlice } from '../../runtime/components/container/distribution';
import { resolverComponent, type ResolverOptions, type ResolverStrategy } from './resolver';

/** A reference to a pipeline parameter, resolved when a run starts. */
export class PipelineParam {
  readonly kind = 'param' as const;
  constructor(readonly name: string) {}
}

/** An output port of a node, wired into downstream inputs. */
export class OutputChannel {
  readonly kind = 'output' as const;
  constructor(readonly node: PipelineNode, readonly port: string, readonly type: ArtifactType) {}
  /** A property of the artifact this port produced, for conditions (e.g. `evaluator.outputs.blessing.property('blessed')`). */
  property(name: string): ArtifactPropertyRef {
    return new ArtifactPropertyRef(this, name);
  }
  toString(): string {
    return `${this.node.id}.outputs.${this.port}`;
  }
}

/**
 * What `node.outputs.<name>` gives for a name that is no output port of the node (a pipeline module is not
 * type-checked when it runs): wiring or reading it is refused naming the port written and the real ones,
 * instead of the input looking unwired.
 */
export class MissingOutput {
  readonly kind = 'missing-output' as const;
  constructor(readonly node: PipelineNode, readonly port: string) {}
  error(use: string): UserError {
    const ports = Object.keys(this.node.component.outputs).join(', ') || 'none';
    return new UserError(`${use} ${this.node.id}.outputs.${this.port}, but node ${this.node.id} (${this.node.component.name}) has no output port "${this.port}" (output ports: ${ports})`);
  }
  property(): never {
    throw this.error('a condition reads a property of');
  }
}

/** Refuses a channel that names no output port (see MissingOutput). */
function checkChannel(ch: unknown, use: string): void {
  if (ch instanceof MissingOutput) throw ch.error(use);
}

export class ArtifactPropertyRef {
  readonly kind = 'artifact-property' as const;
  constructor(readonly channel: OutputChannel, readonly property: string) {}
}

export type ConditionOperator = '==' | '!=' | '<' | '<=' | '>' | '>=';
export type Scalar = string | number | boolean;

/** Run the node only when `left op right` holds; otherwise it and its dependents are skipped. */
export interface Condition {
  left: PipelineParam | ArtifactPropertyRef;
  op: ConditionOperator;
  right: Scalar;
}

export function when(left: PipelineParam | ArtifactPropertyRef, op: ConditionOperator, right: Scalar): Condition {
  return { left, op, right };
}

export interface RetryPolicy {
  /** Attempts after the first one. */
  maxRetries: number;
  /** @default 1 */
  backoffSeconds?: number;
  /** @default 2 */
  backoffFactor?: number;
  /** @default 60 */
  maxBackoffSeconds?: number;
}

export interface ResourceSpec {
  /** Kubernetes quantity, e.g. "2" or "500m". */
  cpu?: string;
  /** Kubernetes quantity, e.g. "4Gi". */
  memory?: string;
  /** GPU type as GKE labels it (e.g. "nvidia-l4") and count. */
  accelerator?: { type: string; count: number };
  /** TPU type (e.g. "tpu-v5-lite-podslice") and topology (e.g. "2x4"). */
  tpu?: { type: string; topology: string };
}

type InputWiring<C extends AnyComponent> = { [K in keyof C['inputs']]?: OutputChannel | OutputChannel[] };
type ParameterWiring<C extends AnyComponent> = {
  [K in keyof z.input<C['parameters']>]?: z.input<C['parameters']>[K] | PipelineParam;
};

export interface NodeOptions<C extends AnyComponent> {
  inputs?: InputWiring<C>;
  parameters?: ParameterWiring<C>;
  /** @default - no retries */
  retry?: RetryPolicy;
  /** @default - no requests; the local runner ignores resources, the compilers emit them */
  resources?: ResourceSpec;
  /** @default true */
  cache?: boolean;
  /** @default - always run */
  condition?: Condition;
  /** Extra ordering edges with no data flowing. @default - none */
  after?: PipelineNode[];
  /**
   * Split the work into N shard executions plus a merge (only components with `sharding`: StatisticsGen,
   * Transform, BulkInferrer, ExampleGen); `auto` lets the component choose from the input size.
   * @default - one execution, no shards
   */
  shards?: ShardsOption;
  /**
   * Run this node's container component distributed: replaces the component's `distribution` and `tpu` (checked the
   * same way; a component that is not a container component is refused). @default - the component's own
   */
  distribution?: DistributionSpec;
  /** Run this node's container component on a TPU slice (replaces its `distribution` and `tpu`). @default - the component's own */
  tpu?: TpuSlice;
}

const ID_RE = /^[a-z][a-z0-9-]*$/;

export class PipelineNode<C extends AnyComponent = AnyComponent> {
  readonly outputs: { [K in keyof C['outputs']]: OutputChannel };
  readonly inputs = new Map<string, OutputChannel[]>();
  readonly parameters: Record<string, unknown> = {};
  readonly retry?: RetryPolicy;
  readonly resources?: ResourceSpec;
  readonly cache: boolean;
  readonly condition?: Condition;
  readonly shards?: ShardsOption;
  readonly explicitUpstream: PipelineNode[] = [];
  /** Set on resolver nodes: the runner picks artifacts from the metadata store instead of executing. */
  readonly resolver?: ResolverStrategy;

  constructor(readonly pipeline: Pipeline, readonly id: string, readonly component: C, options: NodeOptions<C>, resolver?: ResolverStrategy) {
    this.resolver = resolver;
    const outputs: Record<string, OutputChannel> = {};
    for (const [port, spec] of Object.entries(component.outputs)) outputs[port] = new OutputChannel(this, port, spec.type);
    const missing = (target: Record<string, OutputChannel>, name: string | symbol): unknown =>
      typeof name === 'string' && !(name in target) ? new MissingOutput(this as PipelineNode, name) : Reflect.get(target, name);
    this.outputs = new Proxy(outputs, { get: missing }) as PipelineNode<C>['outputs'];
    this.retry = options.retry;
    this.resources = options.resources;
    this.cache = options.cache ?? true;
    this.condition = options.condition;
    if (options.shards !== undefined) {
      if (!component.sharding) throw new UserError(`node ${id}: component ${component.name} cannot be sharded; remove "shards" (shardable components declare sharding: StatisticsGen, Transform, BulkInferrer, ExampleGen)`);
      this.shards = checkShardsOption(options.shards, `node ${id}`);
    }
    for (const [port, wiring] of Object.entries(options.inputs ?? {})) {
      if (wiring !== undefined) this.wire(port, wiring as OutputChannel | OutputChannel[]);
    }
    for (const [name, value] of Object.entries(options.parameters ?? {})) {
      if (value !== undefined) this.setParameter(name, value);
    }
    for (const n of options.after ?? []) this.after(n);
    if (this.retry && (!Number.isInteger(this.retry.maxRetries) || this.retry.maxRetries < 0)) {
      throw new UserError(`node ${id}: retry.maxRetries must be a whole number ≥ 0, got ${this.retry.maxRetries}`);
    }
  }

  /** Connects an input port (also used for late wiring; validate() catches the cycles this can make). */
  wire(port: string, wiring: OutputChannel | OutputChannel[]): this {
    const spec = this.component.inputs[port];
    if (!spec) {
      throw new UserError(`node ${this.id}: component ${this.component.name} has no input port "${port}" (ports: ${Object.keys(this.component.inputs).join(', ') || 'none'})`);
    }
    const channels = Array.isArray(wiring) ? wiring : [wiring];
    for (const ch of channels) {
      checkChannel(ch, `node ${this.id}: input "${port}" is wired to`);
      if (!(ch instanceof OutputChannel)) throw new UserError(`node ${this.id}: input "${port}" must be wired to an upstream node's outputs.<port>`);
      if (ch.node.pipeline !== this.pipeline) throw new UserError(`node ${this.id}: input "${port}" is wired to node ${ch.node.id} of another pipeline`);
      if (ch.type.name !== spec.type.name) {
        throw new UserError(`node ${this.id}: input "${port}" expects ${spec.type.name} but ${ch} is ${ch.type.name}`);
      }
    }
    this.inputs.set(port, channels);
    return this;
  }

  setParameter(name: string, value: unknown): this {
    const shape = this.component.parameters.shape;
    if (!(name in shape)) {
      throw new UserError(`node ${this.id}: component ${this.component.name} has no parameter "${name}" (parameters: ${Object.keys(shape).join(', ') || 'none'})`);
    }
    if (value instanceof PipelineParam) {
      if (!this.pipeline.hasParameter(value.name)) throw new UserError(`node ${this.id}: parameter "${name}" refers to unknown pipeline parameter "${value.name}"`);
    } else if (containsParam(value)) {
      // Runners and compilers substitute whole parameters only (a KFP parameter is one value).
      throw new UserError(`node ${this.id}: parameter "${name}" has a pipeline parameter nested inside it; pass pipeline parameters as whole component parameters`);
    } else {
      const r = (shape[name] as z.ZodType).safeParse(value);
      if (!r.success) throw new UserError(`node ${this.id}: invalid parameter ${formatZodIssues(r.error.issues, name)}`);
    }
    this.parameters[name] = value;
    return this;
  }

  after(...nodes: PipelineNode[]): this {
    this.explicitUpstream.push(...nodes);
    return this;
  }

  /** Nodes this one depends on: data inputs, condition references and explicit ordering. */
  upstream(): PipelineNode[] {
    const set = new Set<PipelineNode>(this.explicitUpstream);
    for (const chs of this.inputs.values()) for (const ch of chs) set.add(ch.node);
    if (this.condition?.left instanceof ArtifactPropertyRef) set.add(this.condition.left.channel.node);
    if (this.resolver?.kind === 'previous-span') set.add(this.resolver.of.node);
    if (this.resolver?.kind === 'latest-blessed-model' && this.resolver.excluding) set.add(this.resolver.excluding.node);
    return [...set];
  }
}

function containsParam(value: unknown): boolean {
  if (value instanceof PipelineParam) return true;
  if (value && typeof value === 'object') return Object.values(value).some(containsParam);
  return false;
}

export interface PipelineProps<P extends z.ZodObject<z.ZodRawShape>> {
  name: string;
  description?: string;
  /** Run-time parameters (overridable with `mlp run --param k=v`). @default - none */
  parameters?: P;
}

export class Pipeline<P extends z.ZodObject<z.ZodRawShape> = z.ZodObject<z.ZodRawShape>> {
  readonly name: string;
  readonly description?: string;
  readonly parameterSchema: P;
  private readonly nodeMap = new Map<string, PipelineNode>();

  constructor(props: PipelineProps<P>) {
    if (!ID_RE.test(props.name)) throw new UserError(`pipeline name "${props.name}" must match ${ID_RE} (lower case, digits, dashes)`);
    this.name = props.name;
    this.description = props.description;
    this.parameterSchema = props.parameters ?? (z.object({}) as unknown as P);
  }

  hasParameter(name: string): boolean {
    return name in this.parameterSchema.shape;
  }

  param(name: keyof z.input<P> & string): PipelineParam {
    if (!this.hasParameter(name)) throw new UserError(`pipeline ${this.name} has no parameter "${name}"`);
    return new PipelineParam(name);
  }

  add<C extends AnyComponent>(id: string, component: C, options: NodeOptions<C> = {}): PipelineNode<C> {
    this.checkNewId(id);
    const { distribution, tpu } = options;
    const runs = distribution || tpu ? (withDistribution(component, { distribution, tpu }, `node ${id}`) as unknown as C) : component;
    const node = new PipelineNode(this, id, runs, options);
    this.nodeMap.set(id, node as unknown as PipelineNode);
    return node;
  }

  /**
   * Adds a resolver node whose `outputs.result` is an artifact picked from the metadata store (or nothing,
   * which an optional input accepts), e.g. the latest blessed model or the previous span's statistics.
   */
  addResolver(id: string, options: ResolverOptions): PipelineNode {
    this.checkNewId(id);
    const { strategy, type } = options;
    if (strategy.kind === 'previous-span') checkChannel(strategy.of, `resolver ${id}: previous-span of`);
    if (strategy.kind === 'latest-blessed-model') checkChannel(strategy.excluding, `resolver ${id}: excluding`);
    if (strategy.kind === 'previous-span' && strategy.of.type.name !== type.name) {
      throw new UserError(`resolver ${id}: previous-span of ${strategy.of} gives ${strategy.of.type.name}, not ${type.name}`);
    }
    if (strategy.kind === 'latest' && strategy.producer && strategy.producer.pipeline !== this) {
      throw new UserError(`resolver ${id}: producer ${strategy.producer.id} is not a node of pipeline ${this.name}`);
    }
    const node = new PipelineNode(this, id, resolverComponent(type), {}, strategy);
    this.nodeMap.set(id, node);
    return node;
  }

  private checkNewId(id: string): void {
    if (!ID_RE.test(id)) throw new UserError(`pipeline ${this.name}: node id "${id}" must match ${ID_RE}`);
    if (this.nodeMap.has(id)) throw new UserError(`pipeline ${this.name}: node id "${id}" is used twice`);
  }

  get nodes(): PipelineNode[] {
    return [...this.nodeMap.values()];
  }

  node(id: string): PipelineNode {
    const n = this.nodeMap.get(id);
    if (!n) throw new UserError(`pipeline ${this.name} has no node "${id}"`);
    return n;
  }

  /** Checks what per-call checks cannot see (missing required inputs, cycles) and returns the nodes in topological order. */
  validate(): PipelineNode[] {
    if (this.nodeMap.size === 0) throw new UserError(`pipeline ${this.name} has no nodes`);
    for (const node of this.nodes) {
      for (const [port, spec] of Object.entries(node.component.inputs)) {
        if (!spec.optional && !(node.inputs.get(port)?.length)) {
          throw new UserError(`node ${node.id}: required input "${port}" (${spec.type.name}) is not wired`);
        }
      }
      for (const up of node.upstream()) {
        if (this.nodeMap.get(up.id) !== up) throw new UserError(`node ${node.id} depends on node ${up.id}, which is not in pipeline ${this.name}`);
      }
      if (node.resolver?.kind === 'latest-blessed-model') {
        const evaluator = this.nodeMap.get(node.resolver.evaluator);
        if (!evaluator || !Object.values(evaluator.component.outputs).some((o) => o.type.name === 'ModelBlessing')) {
          throw new UserError(`resolver ${node.id}: latest-blessed-model needs "${node.resolver.evaluator}" to be a node of pipeline ${this.name} with a ModelBlessing output`);
        }
      }
    }
    return topologicalOrder(this.nodes, this.name);
  }

  /** Validates run-time parameter values (defaults applied); errors carry the zod path. */
  resolveParameters(values: Record<string, unknown>): z.output<P> {
    for (const k of Object.keys(values)) {
      if (!this.hasParameter(k)) {
        throw new UserError(`pipeline ${this.name} has no parameter "${k}" (parameters: ${Object.keys(this.parameterSchema.shape).join(', ') || 'none'})`);
      }
    }
    const r = this.parameterSchema.safeParse(values);
    if (!r.success) throw new UserError(`pipeline ${this.name}: invalid parameter ${formatZodIssues(r.error.issues)}`);
    return r.data;
  }
}

function topologicalOrder(nodes: PipelineNode[], pipeline: string): PipelineNode[] {
  const order: PipelineNode[] = [];
  const state = new Map<PipelineNode, 'visiting' | 'done'>();
  const visit = (n: PipelineNode, trail: PipelineNode[]): void => {
    const s = state.get(n);
    if (s === 'done') return;
    if (s === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(n)), n].map((x) => x.id).join(' → ');
      throw new UserError(`pipeline ${pipeline} has a cycle: ${cycle}`);
    }
    state.set(n, 'visiting');
    for (const up of n.upstream()) visit(up, [...trail, n]);
    state.set(n, 'done');
    order.push(n);
  };
  for (const n of nodes) visit(n, []);
  return order;
}
