// What a compiled step and `mlp component run` agree on, beyond the KFP ExecutorInput: the resolver step's
// component name, parameters and input port, the marker of a resolver that found nothing, and a resolver
// strategy in the form a compiled step carries it (node ids instead of DSL objects). Kept free of the metadata
// store and storage so the compilers can import it cheaply.

import type { ExecutorInput } from '../core/executor-io';
import type { Properties } from '../metadata/types';
import type { ResolverStrategy } from '../../pipelines/dsl/resolver';

/** Component name of a resolver step (the stand-in component of pipelines/dsl/resolver.ts). */
export const RESOLVER_COMPONENT = 'mlp.Resolver';
/** Metadata key marking the placeholder artifact of a resolver that found nothing. */
export const RESOLVED_PROPERTY = 'mlp_resolved';
/** The resolver step's input port carrying the artifact its strategy is relative to. */
export const RESOLVER_CURRENT_PORT = 'current';

/** A resolver strategy as a compiled step carries it: node ids and ports instead of DSL objects. */
export type CompiledStrategy =
  | { kind: 'latest'; properties?: Properties; producer?: string }
  | { kind: 'previous-span'; of: { node: string; port: string } }
  | { kind: 'latest-blessed-model'; evaluator: string; excluding?: { node: string; port: string } };

/** The strategy of a resolver node in the form a compiled step carries. */
export function compileStrategy(strategy: ResolverStrategy): CompiledStrategy {
  switch (strategy.kind) {
    case 'latest':
      return { kind: 'latest', ...(strategy.properties ? { properties: strategy.properties } : {}), ...(strategy.producer ? { producer: strategy.producer.id } : {}) };
    case 'previous-span':
      return { kind: 'previous-span', of: { node: strategy.of.node.id, port: strategy.of.port } };
    case 'latest-blessed-model':
      return {
        kind: 'latest-blessed-model',
        evaluator: strategy.evaluator,
        ...(strategy.excluding ? { excluding: { node: strategy.excluding.node.id, port: strategy.excluding.port } } : {}),
      };
  }
}

/** Input artifacts a resolver reported as not found are left out: the optional input is then empty, as locally. */
export function dropUnresolved(input: ExecutorInput): ExecutorInput {
  const artifacts = input.inputs?.artifacts;
  if (!artifacts) return input;
  return {
    ...input,
    inputs: {
      ...input.inputs,
      artifacts: Object.fromEntries(
        Object.entries(artifacts).map(([port, list]) => [port, { artifacts: list.artifacts.filter((a) => a.metadata?.[RESOLVED_PROPERTY] !== false) }]),
      ),
    },
  };
}
