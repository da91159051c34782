// Builds the cdktf app with `<env>-platform` and `<env>-workloads` stacks per environment (one MlPlatform each); used
// by stacks/main.ts, the tests and the bench.
import { App } from 'cdktf';
import { ENVIRONMENT_NAMES, environment } from './environments';
import { environmentPlatform, environmentPlatformProps } from './environment-platform';
import { environmentCostCeiling } from './environment-cost';
import { CostCeiling } from '../constructs/cost/cost-ceiling';
import { EnvironmentName } from './config';
import { loadCompiledPipelines } from './compiled-pipelines';
import { MlPlatform, MlPlatformStack, MlWorkloadsStack } from '../constructs/ml-platform';

export interface PlatformApp {
  readonly app: App;
  /** The `<env>-platform` stacks. */
  readonly stacks: MlPlatformStack[];
  /** The `<env>-workloads` stacks. */
  readonly workloads: MlWorkloadsStack[];
  readonly platforms: MlPlatform[];
  /** Each environment's monthly cost ceiling (`npm run synth` prints them). */
  readonly costCeilings: { readonly environment: EnvironmentName; readonly ceiling: CostCeiling }[];
  /** Notes for the person synthesizing (e.g. what was left out and why). */
  readonly notes: string[];
}

export interface PlatformAppOptions {
  /** @default - CDKTF_OUTDIR or `cdktf.out` */
  readonly outdir?: string;
  /** @default - dev, staging, prod */
  readonly environments?: readonly EnvironmentName[];
  /**
   * Directory of compiled pipelines (`argo/`, `kfp/`, `airflow/`; see compiled-pipelines.ts), e.g. from
   * MLP_COMPILED_PIPELINES.
   * @default - none: no WorkflowTemplates/DAGs/PipelineSpecs and no schedules are synthesized
   */
  readonly compiledPipelinesDir?: string;
}

/** Creates the app and its stacks (not yet synthesized). */
export function buildPlatformApp(options: PlatformAppOptions = {}): PlatformApp {
  const app = new App({ outdir: options.outdir, skipValidation: false });
  const pipelines = options.compiledPipelinesDir ? loadCompiledPipelines(options.compiledPipelinesDir) : undefined;
  const notes = pipelines
    ? []
    : ['no compiled pipelines given (MLP_COMPILED_PIPELINES unset): orchestrators are synthesized without WorkflowTemplates, DAGs or schedules'];
  const names = options.environments ?? ENVIRONMENT_NAMES;
  const platforms = names.map((env) => environmentPlatform(app, environment(env), { pipelines }));
  const costCeilings = names.map((env) => ({ environment: env, ceiling: environmentCostCeiling(environment(env), environmentPlatformProps(environment(env), { pipelines })) }));
  return {
    app,
    stacks: platforms.map((p) => p.platform),
    workloads: platforms.map((p) => p.workloads!),
    platforms,
    costCeilings,
    notes,
  };
}
