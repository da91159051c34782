// The release gate both bundled model pipelines end with, as a reusable piece: the latest blessed model
// (other than the candidate) as the baseline → Evaluator (thresholds) → InfraValidator (a real server
// process) → Pusher (only blessed and infra-blessed models). Node ids are fixed ("evaluator", ...): the
// baseline resolver finds earlier blessings through the evaluator's id.

import type { z } from 'zod';
import type { OutputChannel, Pipeline, PipelineNode, PipelineParam } from '../dsl/pipeline';
import { Model } from '../../runtime/core/artifact-types';
import { Evaluator, InfraValidator, Pusher } from '../../runtime/components';

export interface ReleaseGateOptions {
  examples: OutputChannel;
  model: OutputChannel;
  evalConfig: z.input<typeof Evaluator.parameters>['eval_config'];
  pushDestination: string | PipelineParam;
  /** Requests the InfraValidator sends. @default - the component's default */
  infraExamples?: number;
}

export function addReleaseGate(pipeline: Pipeline, o: ReleaseGateOptions): { evaluator: PipelineNode; pusher: PipelineNode } {
  const baseline = pipeline.addResolver('latest-blessed-model', {
    type: Model,
    strategy: { kind: 'latest-blessed-model', evaluator: 'evaluator', excluding: o.model },
  });
  const evaluator = pipeline.add('evaluator', Evaluator, {
    inputs: { examples: o.examples, model: o.model, baseline_model: baseline.outputs.result },
    parameters: { eval_config: o.evalConfig },
  });
  const infraValidator = pipeline.add('infra-validator', InfraValidator, {
    inputs: { model: o.model, examples: o.examples },
    parameters: o.infraExamples ? { num_examples: o.infraExamples } : {},
  });
  const pusher = pipeline.add('pusher', Pusher, {
    inputs: { model: o.model, model_blessing: evaluator.outputs.blessing, infra_blessing: infraValidator.outputs.blessing },
    parameters: { push_destination: o.pushDestination },
  });
  return { evaluator: evaluator as unknown as PipelineNode, pusher: pusher as unknown as PipelineNode };
}
