// ArgoWorkflows: Argo Workflows on the platform cluster - the argo-workflows Helm chart (pinned), its namespace, a
// controller service account bound to its own Google service account through Workload Identity, workflows running as
// the platform's pipeline-runner identity, the compiled WorkflowTemplates as kubernetes_manifest resources and a
// CronWorkflow per schedule.
import { Construct } from 'constructs';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { Release } from '@cdktf/provider-helm/lib/release';
import { ConstructValidationError } from './errors';
import { MlCluster } from './cluster';
import { IGrantableBucket } from './artifact-store';
import { ServiceAccountIdentity } from './service-account-identity';
import { RoleIdentity } from './workload-identity';
import { WorkloadNamespace } from './workload-namespace';
import { escapeTerraformTemplates, isCron, isKubernetesName, isTimeZone } from './workload-common';

/** The argo-workflows chart version used unless `chartVersion` says otherwise (Argo Workflows v3.6 line). */
export const ARGO_WORKFLOWS_CHART_VERSION = '0.45.21';
/** Where the chart comes from. */
export const ARGO_HELM_REPOSITORY = 'https://argoproj.github.io/argo-helm';

/** A workflow parameter declared by a template. */
export interface ArgoParameter {
  readonly name: string;
  readonly value?: string;
  readonly description?: string;
  readonly [field: string]: unknown;
}

/** One template (container, DAG, script, ...) of a workflow spec; fields other than `name` pass through unchanged. */
export interface ArgoTemplate {
  readonly name: string;
  readonly [field: string]: unknown;
}

/** A workflow spec as `mlp compile --target argo` writes it; fields not listed pass through unchanged. */
export interface ArgoWorkflowSpec {
  readonly entrypoint: string;
  readonly templates: readonly ArgoTemplate[];
  readonly arguments?: { readonly parameters?: readonly ArgoParameter[] };
  /** Set to the runner's Kubernetes service account when missing; any other value is refused. */
  readonly serviceAccountName?: string;
  readonly [field: string]: unknown;
}

/** An Argo WorkflowTemplate (argoproj.io/v1alpha1), e.g. the output of `mlp compile <pipeline> --target argo`. */
export interface ArgoWorkflowTemplate {
  readonly apiVersion: 'argoproj.io/v1alpha1';
  readonly kind: 'WorkflowTemplate';
  readonly metadata: {
    readonly name: string;
    /** Set to the runner's namespace when missing; any other namespace is refused. */
    readonly namespace?: string;
    readonly labels?: { readonly [key: string]: string };
    readonly annotations?: { readonly [key: string]: string };
  };
  readonly spec: ArgoWorkflowSpec;
}

/** Checks that parsed JSON (e.g. a compiled file) is a WorkflowTemplate; the error names `source` and the field. */
export function parseArgoWorkflowTemplate(json: unknown, source: string): ArgoWorkflowTemplate {
  const bad = (what: string) => new Error(`${source}: ${what}; compile it with \`mlp compile <pipeline> --target argo\` (without --schedule).`);
  if (!json || typeof json !== 'object' || Array.isArray(json)) throw bad('not a JSON object');
  const o = json as { [k: string]: unknown };
  if (o.apiVersion !== 'argoproj.io/v1alpha1') throw bad(`apiVersion is ${JSON.stringify(o.apiVersion)}, expected "argoproj.io/v1alpha1"`);
  if (o.kind !== 'WorkflowTemplate') throw bad(`kind is ${JSON.stringify(o.kind)}, expected "WorkflowTemplate"`);
  const metadata = o.metadata as { [k: string]: unknown } | undefined;
  if (!metadata || typeof metadata.name !== 'string') throw bad('metadata.name is missing');
  const spec = o.spec as { [k: string]: unknown } | undefined;
  if (!spec || typeof spec.entrypoint !== 'string') throw bad('spec.entrypoint is missing');
  if (!Array.isArray(spec.templates) || spec.templates.some((t) => !t || typeof (t as { name?: unknown }).name !== 'string')) {
    throw bad('spec.templates must be a list of templates with names');
  }
  return json as ArgoWorkflowTemplate;
}

/** A CronWorkflow that submits one of the WorkflowTemplates on a schedule. */
export interface ArgoSchedule {
  /** Name of the WorkflowTemplate to run (one of `workflowTemplates`). */
  readonly workflowTemplate: string;
  /** Five-field cron expression, e.g. `0 3 * * *`. */
  readonly schedule: string;
  /**
   * CronWorkflow name.
   * @default `<workflowTemplate>-schedule`
   */
  readonly name?: string;
  /**
   * Time zone of the schedule.
   * @default 'Etc/UTC'
   */
  readonly timezone?: string;
  /**
   * Values for the template's parameters (each must be declared by the template).
   * @default - the template's defaults
   */
  readonly parameters?: { readonly [name: string]: string };
  /**
   * What happens when the previous run is still going.
   * @default 'Forbid' - skip this run
   */
  readonly concurrencyPolicy?: 'Allow' | 'Forbid' | 'Replace';
  /**
   * Create the schedule suspended.
   * @default false
   */
  readonly suspend?: boolean;
}

export interface ArgoWorkflowsProps {
  /** The cluster (for its Workload Identity pool and project). */
  readonly cluster: MlCluster;
  /** The identity workflows run as: its Kubernetes service account in its namespace (WorkloadIdentity `pipeline-runner`). */
  readonly runner: RoleIdentity;
  /**
   * The namespace construct of the runner's namespace: the release and the templates are created after it.
   * @default - the runner's namespace and service account must exist already
   */
  readonly workloadNamespace?: WorkloadNamespace;
  /** Prefix of the controller's Google service account id (`<prefix>-argo`, 6-30 chars), e.g. `mlp-dev`. */
  readonly accountPrefix: string;
  /**
   * Namespace of the controller and server (created here).
   * @default 'argo'
   */
  readonly namespace?: string;
  /**
   * argo-workflows chart version: an exact version (no ranges), 0.45.0 or later (Argo Workflows 3.6+, which the
   * CronWorkflow `schedules` field needs).
   * @default ARGO_WORKFLOWS_CHART_VERSION
   */
  readonly chartVersion?: string;
  /**
   * Helm repository of the chart (a mirror, for example).
   * @default ARGO_HELM_REPOSITORY
   */
  readonly chartRepository?: string;
  /**
   * Bucket for the artifact repository (step logs are archived there under `argo/`); the runner must be able to write it.
   * @default - no artifact repository: step logs live only in Cloud Logging
   */
  readonly artifactBucket?: IGrantableBucket;
  /**
   * Deploy the Argo Server (UI/API; ClusterIP service, `client` auth: callers bring their own Kubernetes token).
   * @default true
   */
  readonly server?: boolean;
  /**
   * Workflows the controller runs at once.
   * @default 20
   */
  readonly parallelism?: number;
  /**
   * Seconds a finished workflow is kept before it is deleted (its logs stay in Cloud Logging and the archive).
   * @default 604800 (7 days)
   */
  readonly workflowTtlSeconds?: number;
  /**
   * Node selector for the controller and server (e.g. the CPU pool).
   * @default - none
   */
  readonly controllerNodeSelector?: { readonly [key: string]: string };
  /**
   * WorkflowTemplates to install in the runner's namespace (usually compiled pipelines).
   * @default - none
   */
  readonly workflowTemplates?: readonly ArgoWorkflowTemplate[];
  /**
   * Schedules (CronWorkflows) of the templates.
   * @default - none
   */
  readonly schedules?: readonly ArgoSchedule[];
}

/** Pod-level security context for the chart's pods (what Pod Security `restricted` asks beyond the chart's defaults). */
export interface PodSecurityContextValues {
  readonly runAsNonRoot: true;
  readonly seccompProfile: { readonly type: 'RuntimeDefault' };
}

/** The Helm values this construct sets (a typed subset of the chart's values.yaml). */
export interface ArgoWorkflowsValues {
  readonly crds: { readonly install: boolean; readonly keep: boolean };
  readonly singleNamespace: boolean;
  readonly controller: {
    readonly workflowNamespaces: readonly string[];
    readonly parallelism: number;
    readonly serviceAccount: { readonly create: boolean; readonly name: string; readonly annotations: { readonly [k: string]: string } };
    readonly logging: { readonly format: 'json'; readonly level: 'info' };
    readonly metricsConfig: { readonly enabled: boolean };
    readonly workflowDefaults: { readonly spec: { readonly serviceAccountName: string; readonly ttlStrategy: { readonly secondsAfterCompletion: number }; readonly podGC: { readonly strategy: string } } };
    readonly nodeSelector: { readonly [k: string]: string };
    readonly resources: { readonly requests: { readonly cpu: string; readonly memory: string } };
    readonly podSecurityContext: PodSecurityContextValues;
    readonly pdb: { readonly enabled: boolean };
  };
  readonly workflow: { readonly serviceAccount: { readonly create: boolean; readonly name: string }; readonly rbac: { readonly create: boolean } };
  readonly server: {
    readonly enabled: boolean; readonly authModes: readonly string[]; readonly serviceType: 'ClusterIP';
    readonly nodeSelector: { readonly [k: string]: string }; readonly podSecurityContext: PodSecurityContextValues;
  };
  readonly artifactRepository?: { readonly archiveLogs: boolean; readonly gcs: { readonly bucket: string; readonly keyFormat: string } };
  readonly useStaticCredentials: boolean;
}

/**
 * Argo Workflows. Construct ids: `namespace`, `controller` (ServiceAccountIdentity: `service-account`,
 * `logging-logWriter`, `wi-<namespace>-argo-workflows-controller`), `release`, `template-<name>`, `cron-<name>`.
 *
 * First deploy: `kubernetes_manifest` needs the Argo CRDs at plan time, so the templates and schedules can only be
 * planned once the release is installed - apply the release first (`terraform apply -target` of it), then the rest
 * (docs/infrastructure.md, "Deploy order").
 */
export class ArgoWorkflows extends Construct {
  readonly release: Release;
  /** The controller's Google identity (for grants). */
  readonly controller: ServiceAccountIdentity;
  readonly values: ArgoWorkflowsValues;
  /** Namespace of the controller (literal). */
  readonly namespace: string;
  /** Namespace workflows run in (the runner's). */
  readonly workflowNamespace: string;
  readonly templates: { readonly [name: string]: Manifest };
  readonly cronWorkflows: { readonly [name: string]: Manifest };

  constructor(scope: Construct, id: string, props: ArgoWorkflowsProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('ArgoWorkflows', this, msg);
    const namespace = props.namespace ?? 'argo';
    if (!isKubernetesName(namespace)) throw fail(`namespace '${namespace}' is not a valid Kubernetes namespace name.`);
    const workflowNamespace = props.runner.kubernetesNamespace;
    if (namespace === workflowNamespace) throw fail(`namespace '${namespace}' is also the runner's namespace; install the controller into its own namespace (e.g. 'argo').`);
    const chartVersion = props.chartVersion ?? ARGO_WORKFLOWS_CHART_VERSION;
    const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(chartVersion);
    if (!m) throw fail(`chartVersion '${chartVersion}' must be an exact version like ${ARGO_WORKFLOWS_CHART_VERSION} (no ranges: a pinned chart cannot change under a running platform).`);
    if (Number(m[1]) === 0 && Number(m[2]) < 45) throw fail(`chartVersion ${chartVersion} installs Argo Workflows older than 3.6, which has no CronWorkflow 'schedules'; use 0.45.0 or later.`);
    const accountId = `${props.accountPrefix}-argo`;
    const parallelism = props.parallelism ?? 20;
    if (!Number.isInteger(parallelism) || parallelism < 1) throw fail(`parallelism ${parallelism} must be a positive integer.`);
    const ttl = props.workflowTtlSeconds ?? 7 * 86400;
    if (!Number.isInteger(ttl) || ttl < 60) throw fail(`workflowTtlSeconds ${ttl} must be an integer of at least 60.`);

    const runnerSa = props.runner.kubernetesServiceAccount;
    const templates = (props.workflowTemplates ?? []).map((t, i) => normalizeTemplate(t, i, workflowNamespace, runnerSa, fail));
    const byName = new Map(templates.map((t) => [t.metadata.name, t]));
    if (byName.size !== templates.length) throw fail(`workflowTemplates has two templates named '${templates.find((t, i) => templates.findIndex((u) => u.metadata.name === t.metadata.name) !== i)!.metadata.name}'; names must be unique.`);
    const schedules = (props.schedules ?? []).map((s) => {
      const name = s.name ?? `${s.workflowTemplate}-schedule`;
      const template = byName.get(s.workflowTemplate);
      if (!template) {
        throw fail(`schedule '${name}' runs WorkflowTemplate '${s.workflowTemplate}', which is not in workflowTemplates (${[...byName.keys()].join(', ') || 'none'}); add the compiled template or fix the name.`);
      }
      if (!isCron(s.schedule)) throw fail(`schedule '${name}' has cron '${s.schedule}'; use five fields like '0 3 * * *'.`);
      if (!isKubernetesName(name)) throw fail(`schedule name '${name}' is not a valid Kubernetes name.`);
      const tz = s.timezone ?? 'Etc/UTC';
      if (!isTimeZone(tz)) throw fail(`schedule '${name}' has time zone '${tz}'; use an IANA name like Etc/UTC or Europe/Berlin.`);
      const declared = new Set((template.spec.arguments?.parameters ?? []).map((p) => p.name));
      for (const p of Object.keys(s.parameters ?? {})) {
        if (!declared.has(p)) throw fail(`schedule '${name}' sets parameter '${p}', which WorkflowTemplate '${s.workflowTemplate}' does not declare (${[...declared].join(', ') || 'none'}).`);
      }
      return { ...s, name, timezone: tz };
    });
    if (new Set(schedules.map((s) => s.name)).size !== schedules.length) throw fail('two schedules have the same name; set name on one of them.');

    this.namespace = namespace;
    this.workflowNamespace = workflowNamespace;
    const cluster = props.cluster;
    const controllerKsa = 'argo-workflows-controller';

    const ns = new NamespaceV1(this, 'namespace', {
      // The chart's pods meet `restricted` with the podSecurityContext below; it is warned about and audited, and
      // `baseline` is enforced so a chart upgrade that misses a field does not stop the controller from starting.
      metadata: {
        name: namespace,
        labels: {
          'app.kubernetes.io/managed-by': 'cdktf',
          'pod-security.kubernetes.io/enforce': 'baseline',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
        },
      },
    });
    this.controller = new ServiceAccountIdentity(this, 'controller', {
      accountId,
      project: cluster.project,
      displayName: 'Argo Workflows controller',
      principalId: 'argo-controller',
      projectRoles: ['roles/logging.logWriter'],
    });
    this.controller.bindKubernetesServiceAccount(cluster.workloadPool, namespace, controllerKsa);
    const email = this.controller.email;

    const nodeSelector = { ...(props.controllerNodeSelector ?? {}) };
    const podSecurityContext: PodSecurityContextValues = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
    this.values = {
      crds: { install: true, keep: true },
      singleNamespace: false,
      controller: {
        workflowNamespaces: [workflowNamespace],
        parallelism,
        serviceAccount: { create: true, name: controllerKsa, annotations: { 'iam.gke.io/gcp-service-account': email } },
        logging: { format: 'json', level: 'info' },
        metricsConfig: { enabled: true },
        workflowDefaults: { spec: { serviceAccountName: runnerSa, ttlStrategy: { secondsAfterCompletion: ttl }, podGC: { strategy: 'OnPodSuccess' } } },
        nodeSelector,
        resources: { requests: { cpu: '100m', memory: '256Mi' } },
        podSecurityContext,
        pdb: { enabled: false },
      },
      // The runner's KSA exists already (WorkloadNamespace); the chart only adds the Role/RoleBinding the executor needs.
      workflow: { serviceAccount: { create: false, name: runnerSa }, rbac: { create: true } },
      server: { enabled: props.server ?? true, authModes: ['client'], serviceType: 'ClusterIP', nodeSelector, podSecurityContext },
      artifactRepository: props.artifactBucket
        ? { archiveLogs: true, gcs: { bucket: props.artifactBucket.bucketName, keyFormat: 'argo/{{workflow.namespace}}/{{workflow.name}}/{{pod.name}}' } }
        : undefined,
      // GCS through Workload Identity (application default credentials), no key secret.
      useStaticCredentials: false,
    };

    this.release = new Release(this, 'release', {
      name: 'argo-workflows',
      repository: props.chartRepository ?? ARGO_HELM_REPOSITORY,
      chart: 'argo-workflows',
      version: chartVersion,
      namespace: ns.metadata.name,
      createNamespace: false,
      atomic: true,
      cleanupOnFail: true,
      wait: true,
      timeout: 600,
      values: [JSON.stringify(this.values)],
      dependsOn: props.workloadNamespace ? [props.workloadNamespace.namespace, props.workloadNamespace.serviceAccounts[props.runner.role]].filter((x) => x !== undefined) : undefined,
    });
    if (props.artifactBucket) props.artifactBucket.grantRead(this.controller);

    const tpl: { [name: string]: Manifest } = {};
    for (const t of templates) {
      tpl[t.metadata.name] = new Manifest(this, `template-${t.metadata.name}`, { manifest: escapeTerraformTemplates(t) as unknown as { [key: string]: unknown }, dependsOn: [this.release] });
    }
    this.templates = tpl;
    const crons: { [name: string]: Manifest } = {};
    for (const s of schedules) {
      const parameters = Object.entries(s.parameters ?? {}).map(([name, value]) => ({ name, value }));
      crons[s.name] = new Manifest(this, `cron-${s.name}`, {
        dependsOn: [this.release, tpl[s.workflowTemplate]],
        manifest: {
          apiVersion: 'argoproj.io/v1alpha1',
          kind: 'CronWorkflow',
          metadata: { name: s.name, namespace: workflowNamespace, labels: { 'app.kubernetes.io/managed-by': 'cdktf', 'mlp/pipeline': s.workflowTemplate } },
          spec: {
            schedules: [s.schedule],
            timezone: s.timezone,
            concurrencyPolicy: s.concurrencyPolicy ?? 'Forbid',
            startingDeadlineSeconds: 600,
            successfulJobsHistoryLimit: 3,
            failedJobsHistoryLimit: 3,
            suspend: s.suspend ?? false,
            workflowSpec: {
              workflowTemplateRef: { name: s.workflowTemplate },
              ...(parameters.length > 0 ? { arguments: { parameters } } : {}),
            },
          },
        },
      });
    }
    this.cronWorkflows = crons;
  }
}

function normalizeTemplate(
  t: ArgoWorkflowTemplate, index: number, namespace: string, serviceAccount: string, fail: (msg: string) => Error,
): ArgoWorkflowTemplate {
  const name = t.metadata?.name;
  if (t.apiVersion !== 'argoproj.io/v1alpha1' || t.kind !== 'WorkflowTemplate') {
    throw fail(`workflowTemplates[${index}] is a ${String(t.apiVersion)} ${String(t.kind)}, not an argoproj.io/v1alpha1 WorkflowTemplate; compile without --schedule and use schedules for CronWorkflows.`);
  }
  if (typeof name !== 'string' || !isKubernetesName(name)) throw fail(`workflowTemplates[${index}] has name '${String(name)}'; use a Kubernetes name (lowercase letters, digits, '-').`);
  if (t.metadata.namespace !== undefined && t.metadata.namespace !== namespace) {
    throw fail(`WorkflowTemplate '${name}' is for namespace '${t.metadata.namespace}', but workflows run in '${namespace}'; compile with --namespace ${namespace}.`);
  }
  if (t.spec.serviceAccountName !== undefined && t.spec.serviceAccountName !== serviceAccount) {
    throw fail(`WorkflowTemplate '${name}' runs as service account '${t.spec.serviceAccountName}', but the runner is '${serviceAccount}'; compile with --service-account ${serviceAccount}.`);
  }
  if (!t.spec.templates.some((x) => x.name === t.spec.entrypoint)) throw fail(`WorkflowTemplate '${name}' has entrypoint '${t.spec.entrypoint}', which is not one of its templates.`);
  return {
    ...t,
    metadata: { ...t.metadata, namespace },
    spec: { ...t.spec, serviceAccountName: serviceAccount },
  };
}
