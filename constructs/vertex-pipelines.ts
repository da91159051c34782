// VertexPipelines: what running the compiled KFP v2 pipelines on Vertex AI Pipelines needs - the APIs, a pipeline
// service account with only its grants, the pipeline root in the platform's bucket, and scheduled runs (a Cloud
// Scheduler job per schedule that creates a PipelineJob through the Vertex AI REST API; google provider 6.50 has no
// Vertex schedule resource).
import { Construct } from 'constructs';
import { Fn } from 'cdktf';
import { CloudSchedulerJob } from '@cdktf/provider-google/lib/cloud-scheduler-job';
import { DataGoogleProject } from '@cdktf/provider-google/lib/data-google-project';
import { ConstructValidationError, validateGcpLabels } from './errors';
import { MlNetwork } from './network';
import { ArtifactStore } from './artifact-store';
import { MetadataDatabase } from './metadata-database';
import { ContainerRegistry } from './container-registry';
import { ProjectServices } from './project-services';
import { ServiceAccountIdentity } from './service-account-identity';
import { isCron, isTimeZone } from './workload-common';

/** A KFP v2 PipelineSpec (schemaVersion 2.1.0), e.g. `mlp compile <pipeline> --target kfp`; other fields pass through. */
export interface KfpPipelineSpec {
  readonly pipelineInfo: { readonly name: string; readonly description?: string };
  readonly schemaVersion: string;
  readonly root: { readonly [field: string]: unknown };
  readonly components?: { readonly [name: string]: unknown };
  readonly deploymentSpec?: { readonly [field: string]: unknown };
  readonly [field: string]: unknown;
}

/** Checks that parsed JSON is a PipelineSpec; the error names `source` and the field. */
export function parseKfpPipelineSpec(json: unknown, source: string): KfpPipelineSpec {
  const bad = (what: string) => new Error(`${source}: ${what}; compile it with \`mlp compile <pipeline> --target kfp\` (without --vertex-job).`);
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad('not a JSON object');
  const o = json as { [k: string]: unknown };
  const info = o.pipelineInfo as { name?: unknown } | undefined;
  if (!info || typeof info.name !== 'string') throw bad('pipelineInfo.name is missing');
  if (typeof o.schemaVersion !== 'string' || !o.schemaVersion.startsWith('2.')) throw bad(`schemaVersion is ${JSON.stringify(o.schemaVersion)}, expected 2.x`);
  if (!o.root || typeof o.root !== 'object') throw bad('root is missing');
  return json as KfpPipelineSpec;
}

/** A scheduled run of one pipeline. */
export interface VertexSchedule {
  /** `pipelineInfo.name` of one of `pipelineSpecs`. */
  readonly pipeline: string;
  /** Five-field cron expression. */
  readonly schedule: string;
  /**
   * Scheduler job name.
   * @default `<pipeline>-schedule`
   */
  readonly name?: string;
  /**
   * Time zone of the schedule.
   * @default 'Etc/UTC'
   */
  readonly timeZone?: string;
  /**
   * Pipeline parameter values of the runs.
   * @default - the pipeline's defaults
   */
  readonly parameterValues?: { readonly [name: string]: string | number | boolean };
}

export interface VertexPipelinesProps {
  /** Project the pipelines run in. */
  readonly project: string;
  /** Vertex AI region, e.g. `us-central1`. */
  readonly region: string;
  /** Prefix of the pipeline service account id (`<prefix>-vertex`, 6-30 chars). */
  readonly accountPrefix: string;
  /** Buckets: runs write under `<pipeline root>/vertex/<pipeline>`. */
  readonly store: ArtifactStore;
  /**
   * The ML Metadata database the steps record to (the account becomes an IAM database user).
   * @default - no database grant
   */
  readonly database?: MetadataDatabase;
  /**
   * Registry of the runtime image (the account may pull).
   * @default - no pull grant
   */
  readonly registry?: ContainerRegistry;
  /**
   * VPC the runs are peered with (private service access), so steps reach Cloud SQL's private IP.
   * @default - no peering: steps reach only public endpoints
   */
  readonly network?: MlNetwork;
  /**
   * Compiled pipelines the schedules run.
   * @default - none
   */
  readonly pipelineSpecs?: readonly KfpPipelineSpec[];
  /**
   * Scheduled runs.
   * @default - none
   */
  readonly schedules?: readonly VertexSchedule[];
  /**
   * Labels on every PipelineJob.
   * @default - none
   */
  readonly labels?: { readonly [key: string]: string };
}

/**
 * Vertex AI Pipelines. Construct ids: `service-account` (ServiceAccountIdentity with `aiplatform-user`,
 * `logging-logWriter`, `act-as-vertex-pipelines`), `project`, `schedule-<name>`; APIs in the stack's ProjectServices.
 */
export class VertexPipelines extends Construct {
  readonly identity: ServiceAccountIdentity;
  /** `gs://<pipeline root bucket>/vertex` */
  readonly pipelineRoot: string;
  readonly scheduleJobs: { readonly [name: string]: CloudSchedulerJob };
  /** The PipelineJob request body each schedule sends (before base64), for inspection and tests. */
  readonly requests: { readonly [name: string]: { readonly [field: string]: unknown } };

  constructor(scope: Construct, id: string, props: VertexPipelinesProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('VertexPipelines', this, msg);
    if (!/^[a-z]+-[a-z]+\d+$/.test(props.region)) throw fail(`region '${props.region}' is not a region name like us-central1.`);
    if (props.network && props.network.region !== props.region) throw fail(`network is in ${props.network.region} but pipelines run in ${props.region}; use the same region.`);
    validateGcpLabels('VertexPipelines', this, props.labels);
    const specs = new Map<string, KfpPipelineSpec>();
    for (const spec of props.pipelineSpecs ?? []) {
      if (specs.has(spec.pipelineInfo.name)) throw fail(`pipelineSpecs has two pipelines named '${spec.pipelineInfo.name}'.`);
      specs.set(spec.pipelineInfo.name, spec);
    }
    const schedules = (props.schedules ?? []).map((s) => {
      const name = s.name ?? `${s.pipeline}-schedule`;
      if (!specs.has(s.pipeline)) throw fail(`schedule '${name}' runs pipeline '${s.pipeline}', which is not in pipelineSpecs (${[...specs.keys()].join(', ') || 'none'}); add its compiled PipelineSpec or fix the name.`);
      if (!isCron(s.schedule)) throw fail(`schedule '${name}' has cron '${s.schedule}'; use five fields like '0 3 * * *'.`);
      const tz = s.timeZone ?? 'Etc/UTC';
      if (!isTimeZone(tz)) throw fail(`schedule '${name}' has time zone '${tz}'; use an IANA name like Etc/UTC.`);
      if (!/^[a-zA-Z0-9_-]{1,500}$/.test(name)) throw fail(`schedule name '${name}' may only contain letters, digits, '-' and '_'.`);
      return { ...s, name, timeZone: tz };
    });
    if (new Set(schedules.map((s) => s.name)).size !== schedules.length) throw fail('two schedules have the same name; set name on one of them.');

    const services = ProjectServices.of(this);
    const aiplatform = services.enable('aiplatform.googleapis.com', props.project);
    const scheduler = schedules.length > 0 ? services.enable('cloudscheduler.googleapis.com', props.project) : undefined;

    this.identity = new ServiceAccountIdentity(this, 'service-account', {
      accountId: `${props.accountPrefix}-vertex`,
      project: props.project,
      displayName: 'Vertex AI Pipelines runs',
      principalId: 'vertex-pipelines',
      projectRoles: ['roles/aiplatform.user', 'roles/logging.logWriter'],
    });
    // The scheduler calls the API as this account, and the runs it creates run as this account: act-as on itself only.
    this.identity.grantActAs(this.identity);
    const store = props.store;
    store.rawData.grantRead(this.identity);
    store.pipelineRoot.grantWrite(this.identity);
    store.staging.grantWrite(this.identity);
    store.models.grantWrite(this.identity);
    props.database?.grantConnect(this.identity);
    props.registry?.grantPull(this.identity);
    this.pipelineRoot = `${store.pipelineRoot.url}/vertex`;

    const project = props.network ? new DataGoogleProject(this, 'project', { projectId: props.project }) : undefined;
    const jobs: { [name: string]: CloudSchedulerJob } = {};
    const requests: { [name: string]: { [field: string]: unknown } } = {};
    // The request body is JSON built here; only the project number (for the peered network) is a Terraform value.
    const PROJECT_NUMBER = '__MLP_PROJECT_NUMBER__';
    for (const s of schedules) {
      const request = {
        displayName: s.pipeline,
        pipelineSpec: specs.get(s.pipeline)!,
        runtimeConfig: {
          gcsOutputDirectory: `${this.pipelineRoot}/${s.pipeline}`,
          ...(s.parameterValues ? { parameterValues: { ...s.parameterValues } } : {}),
        },
        serviceAccount: this.identity.emailAddress,
        ...(props.network ? { network: `projects/${PROJECT_NUMBER}/global/networks/${props.network.name}` } : {}),
        labels: { ...(props.labels ?? {}), 'mlp-pipeline': s.pipeline, 'mlp-trigger': 'schedule' },
      };
      requests[s.name] = request;
      const json = JSON.stringify(request);
      // The literal parts become HCL string literals: cdktf escapes `${` and newlines, but not quotes or backslashes.
      const escape = (text: string) => text.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/%\{/g, '%%{');
      const parts = json.split(PROJECT_NUMBER);
      const body = project && parts.length === 2
        ? Fn.base64encode(Fn.join('', [escape(parts[0]), project.number, escape(parts[1])]))
        : Buffer.from(json).toString('base64');
      jobs[s.name] = new CloudSchedulerJob(this, `schedule-${s.name}`, {
        name: s.name,
        project: props.project,
        region: props.region,
        description: `Runs pipeline ${s.pipeline} on Vertex AI Pipelines`,
        schedule: s.schedule,
        timeZone: s.timeZone,
        attemptDeadline: '320s',
        retryConfig: { retryCount: 1 },
        dependsOn: [aiplatform, scheduler!],
        httpTarget: {
          httpMethod: 'POST',
          uri: `https://${props.region}-aiplatform.googleapis.com/v1/projects/${props.project}/locations/${props.region}/pipelineJobs`,
          headers: { 'Content-Type': 'application/json' },
          body,
          oauthToken: { serviceAccountEmail: this.identity.email, scope: 'https://www.googleapis.com/auth/cloud-platform' },
        },
      });
    }
    this.scheduleJobs = jobs;
    this.requests = requests;
  }
}
