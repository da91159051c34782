// PipelineOrchestrator: the engine an environment runs its compiled pipelines on, chosen by a typed union - Argo
// Workflows on the platform cluster, Cloud Composer 3, or Vertex AI Pipelines - wired to the same buckets, metadata
// database, registry and identities, and fed the matching compiled output (WorkflowTemplates, DAG files, PipelineSpecs).
import { Construct } from 'constructs';
import { ConstructValidationError } from './errors';
import { MlNetwork } from './network';
import { MlCluster } from './cluster';
import { ArtifactStore } from './artifact-store';
import { MetadataDatabase } from './metadata-database';
import { ContainerRegistry } from './container-registry';
import { RoleIdentity } from './workload-identity';
import { ServiceAccountIdentity } from './service-account-identity';
import { WorkloadNamespace } from './workload-namespace';
import { ArgoWorkflowTemplate, ArgoWorkflows } from './argo-workflows';
import { AirflowDagFile, ComposerOrchestrator, ComposerOrchestratorProps } from './composer-orchestrator';
import { KfpPipelineSpec, VertexPipelines } from './vertex-pipelines';
import { PipelineLogResource } from './ml-monitoring';
import { PipelineRunTarget } from './build-triggers';

/** Argo Workflows on the platform cluster. */
export interface ArgoOrchestratorOptions {
  readonly kind: 'argo';
  /**
   * argo-workflows chart version (exact).
   * @default ARGO_WORKFLOWS_CHART_VERSION
   */
  readonly chartVersion?: string;
  /**
   * Namespace of the controller.
   * @default 'argo'
   */
  readonly namespace?: string;
  /**
   * Workflows running at once.
   * @default 20
   */
  readonly parallelism?: number;
}
/**
 * Cloud Composer 3; workloads, maintenance window and snapshot props are ComposerOrchestrator's (documented there).
 */
export interface ComposerOrchestratorOptions extends Pick<ComposerOrchestratorProps,
  'scheduler' | 'workers' | 'triggerer' | 'dagProcessor' | 'maintenanceWindowStartUtc' | 'maintenanceWindowHours' | 'maintenanceWindowDays'
  | 'scheduledSnapshots' | 'snapshotSchedule' | 'snapshotTimeZone' | 'snapshotLocation'> {
  readonly kind: 'composer';
  /**
   * Composer image version.
   * @default COMPOSER_IMAGE_VERSION
   */
  readonly imageVersion?: string;
  /**
   * Environment size.
   * @default 'SMALL'
   */
  readonly environmentSize?: 'SMALL' | 'MEDIUM' | 'LARGE';
  /**
   * Highly resilient environment.
   * @default false
   */
  readonly highResilience?: boolean;
}
/** Vertex AI Pipelines. */
export interface VertexOrchestratorOptions {
  readonly kind: 'vertex';
}
export type OrchestratorOptions = ArgoOrchestratorOptions | ComposerOrchestratorOptions | VertexOrchestratorOptions;

/** Compiled pipelines by target (`mlp compile --target argo|kfp|airflow`); the orchestrator takes its own kind. */
export interface CompiledPipelines {
  /**
   * WorkflowTemplates (`--target argo`).
   * @default - none
   */
  readonly argo?: readonly ArgoWorkflowTemplate[];
  /**
   * PipelineSpecs (`--target kfp`).
   * @default - none
   */
  readonly kfp?: readonly KfpPipelineSpec[];
  /**
   * DAG files (`--target airflow`).
   * @default - none
   */
  readonly airflow?: readonly AirflowDagFile[];
}

/** A schedule of one compiled pipeline, whatever the engine. */
export interface PipelineSchedule {
  /** Pipeline name (WorkflowTemplate name / PipelineSpec pipelineInfo.name). */
  readonly pipeline: string;
  /** Five-field cron expression. */
  readonly cron: string;
  /**
   * Time zone.
   * @default 'Etc/UTC'
   */
  readonly timeZone?: string;
  /**
   * Parameter values of the scheduled runs (strings for Argo; JSON-typed for Vertex).
   * @default - the pipeline's defaults
   */
  readonly parameters?: { readonly [name: string]: string | number | boolean };
}

export interface PipelineOrchestratorProps {
  readonly orchestrator: OrchestratorOptions;
  /** Environment name (resource names). */
  readonly environment: string;
  readonly project: string;
  readonly region: string;
  readonly network: MlNetwork;
  readonly cluster: MlCluster;
  readonly store: ArtifactStore;
  readonly database: MetadataDatabase;
  readonly registry: ContainerRegistry;
  /** Identity Argo workflows run as (WorkloadIdentity `pipeline-runner`). */
  readonly runner: RoleIdentity;
  /**
   * The runner's namespace construct (Argo is installed after it).
   * @default - the namespace exists already
   */
  readonly workloadNamespace?: WorkloadNamespace;
  /** Prefix of service account ids created here (`<prefix>-argo`, `-composer`, `-vertex`). */
  readonly accountPrefix: string;
  /** Runtime image the steps run (Composer's MLP_IMAGE). */
  readonly image: string;
  /**
   * Compiled pipelines.
   * @default - none: the engine is set up, no pipelines are installed
   */
  readonly pipelines?: CompiledPipelines;
  /**
   * Schedules. Composer schedules live in the DAG (`mlp compile --target airflow --schedule`), so they are refused there.
   * @default - none
   */
  readonly schedules?: readonly PipelineSchedule[];
  /**
   * Node selector for the Argo controller.
   * @default - none
   */
  readonly controllerNodeSelector?: { readonly [key: string]: string };
  /**
   * Labels.
   * @default - none
   */
  readonly labels?: { readonly [key: string]: string };
}

/** The selected engine. Construct id of the engine: `argo`, `composer` or `vertex`. */
export class PipelineOrchestrator extends Construct {
  readonly kind: OrchestratorOptions['kind'];
  readonly argo?: ArgoWorkflows;
  readonly composer?: ComposerOrchestrator;
  readonly vertex?: VertexPipelines;
  /** What `mlp compile --target` produces for this engine. */
  readonly compileTarget: PipelineRunTarget;
  /** Where pipeline steps log from (for MlMonitoring). */
  readonly logResource: PipelineLogResource;
  /** The Google identity pipeline steps run as. */
  readonly stepIdentity: RoleIdentity | ServiceAccountIdentity;

  constructor(scope: Construct, id: string, props: PipelineOrchestratorProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('PipelineOrchestrator', this, msg);
    const o = props.orchestrator;
    this.kind = o.kind;
    const pipelines = props.pipelines ?? {};
    const schedules = props.schedules ?? [];
    const others = (['argo', 'kfp', 'airflow'] as const).filter((t) => t !== { argo: 'argo', composer: 'airflow', vertex: 'kfp' }[o.kind] && (pipelines[t]?.length ?? 0) > 0);
    if (others.length > 0) {
      throw fail(`pipelines has ${others.join(' and ')} output, but the orchestrator is ${o.kind}; compile with --target ${{ argo: 'argo', composer: 'airflow', vertex: 'kfp' }[o.kind]}.`);
    }
    switch (o.kind) {
      case 'argo': {
        for (const s of schedules) {
          const bad = Object.entries(s.parameters ?? {}).find(([, v]) => typeof v !== 'string');
          if (bad) throw fail(`schedule of ${s.pipeline} sets parameter '${bad[0]}' to ${JSON.stringify(bad[1])}; Argo parameters are strings, write "${String(bad[1])}".`);
        }
        this.argo = new ArgoWorkflows(this, 'argo', {
          cluster: props.cluster,
          runner: props.runner,
          workloadNamespace: props.workloadNamespace,
          accountPrefix: props.accountPrefix,
          namespace: o.namespace,
          chartVersion: o.chartVersion,
          parallelism: o.parallelism,
          artifactBucket: props.store.pipelineRoot,
          controllerNodeSelector: props.controllerNodeSelector,
          workflowTemplates: pipelines.argo,
          schedules: schedules.map((s) => ({
            workflowTemplate: s.pipeline,
            schedule: s.cron,
            timezone: s.timeZone,
            parameters: s.parameters as { [name: string]: string } | undefined,
          })),
        });
        this.compileTarget = 'argo';
        this.logResource = 'k8s_container';
        this.stepIdentity = props.runner;
        break;
      }
      case 'composer': {
        if (schedules.length > 0) {
          throw fail(`Composer runs DAGs on the schedule written in the DAG; compile ${schedules.map((s) => s.pipeline).join(', ')} with \`mlp compile <pipeline> --target airflow --schedule '<cron>'\` and remove the schedules.`);
        }
        this.composer = new ComposerOrchestrator(this, 'composer', {
          name: `mlp-${props.environment}`,
          project: props.project,
          region: props.region,
          network: props.network,
          accountPrefix: props.accountPrefix,
          store: props.store,
          database: props.database,
          registry: props.registry,
          gkeCluster: props.cluster,
          image: props.image,
          imageVersion: o.imageVersion,
          environmentSize: o.environmentSize,
          highResilience: o.highResilience,
          scheduler: o.scheduler,
          workers: o.workers,
          triggerer: o.triggerer,
          dagProcessor: o.dagProcessor,
          maintenanceWindowStartUtc: o.maintenanceWindowStartUtc,
          maintenanceWindowHours: o.maintenanceWindowHours,
          maintenanceWindowDays: o.maintenanceWindowDays,
          scheduledSnapshots: o.scheduledSnapshots,
          snapshotSchedule: o.snapshotSchedule,
          snapshotTimeZone: o.snapshotTimeZone,
          snapshotLocation: o.snapshotLocation,
          dags: pipelines.airflow,
          labels: props.labels,
        });
        this.compileTarget = 'airflow';
        this.logResource = 'k8s_container';
        this.stepIdentity = this.composer.identity;
        break;
      }
      case 'vertex': {
        this.vertex = new VertexPipelines(this, 'vertex', {
          project: props.project,
          region: props.region,
          accountPrefix: props.accountPrefix,
          store: props.store,
          database: props.database,
          registry: props.registry,
          network: props.network,
          pipelineSpecs: pipelines.kfp,
          schedules: schedules.map((s) => ({ pipeline: s.pipeline, schedule: s.cron, timeZone: s.timeZone, parameterValues: s.parameters })),
          labels: props.labels,
        });
        this.compileTarget = 'kfp';
        this.logResource = 'ml_job';
        this.stepIdentity = this.vertex.identity;
        break;
      }
    }
  }
}
