// Resolver nodes, as TFX's Resolver: instead of running a component they pick existing artifacts from the
// metadata store — the latest artifact of a type, the latest blessed model (the evaluator's baseline) or the
// previous span of an artifact this run produced (e.g. statistics to detect drift against).

import { z } from 'zod';
import type { ArtifactType } from '../../runtime/core/artifact-types';
import type { AnyComponent } from '../../runtime/core/component';
import type { Properties } from '../../runtime/metadata/types';
import type { OutputChannel, PipelineNode } from './pipeline';

export type ResolverStrategy =
  /** The newest LIVE artifact of the type made by this pipeline (optionally by one node) with these property values. */
  | { kind: 'latest'; properties?: Properties; producer?: PipelineNode }
  /** The newest LIVE artifact from the same node and port as `of` whose span is lower than that of `of`'s artifact. */
  | { kind: 'previous-span'; of: OutputChannel }
  /**
   * The model named by the newest LIVE ModelBlessing with blessed=1 from the evaluator node with this id (its
   * `current_model_uri`), as TFX's LatestBlessedModelStrategy: the evaluator's baseline. By id, because the
   * evaluator is added after the resolver that feeds it. With `excluding` (the candidate model's channel) the
   * resolver runs after the candidate exists and never returns it, so a rerun whose candidate was already
   * blessed finds the same baseline as before (and stays cached).
   */
  | { kind: 'latest-blessed-model'; evaluator: string; excluding?: OutputChannel };

export interface ResolverOptions {
  type: ArtifactType;
  strategy: ResolverStrategy;
}

/** The stand-in component of a resolver node: one output, `result`; it is never executed. */
export function resolverComponent(type: ArtifactType): AnyComponent {
  return {
    name: 'mlp.Resolver',
    version: '1',
    description: `Resolves a ${type.name} artifact from the metadata store`,
    inputs: {},
    outputs: { result: { type } },
    parameters: z.object({}),
    executor: () => {
      throw new Error('resolver nodes are resolved by the runner, not executed');
    },
  };
}
