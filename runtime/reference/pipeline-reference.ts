// The bundled pipelines (`mlp run <name>`) as a pipeline author sees them: name, what each does, and its
// run-time parameters (`--param k=v`) as documented fields. The one source of `mlp pipelines`.

import { BUNDLED_PIPELINES, loadPipeline } from '../../pipelines';
import { parameterFields, type ParameterField } from './parameter-fields';

export interface PipelineReference {
  name: string;
  description: string;
  parameters: ParameterField[];
}

/** Every bundled pipeline, in the registry's order (each module is loaded, so its defaults are this machine's). */
export function describeBundledPipelines(): PipelineReference[] {
  return Object.keys(BUNDLED_PIPELINES).map((name) => {
    const { pipeline } = loadPipeline(name);
    return { name, description: pipeline.description ?? '', parameters: parameterFields(pipeline.parameterSchema) };
  });
}
