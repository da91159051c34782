// ModelServing: `mlp serve` on the platform cluster for one model - Deployment(s) reading the pushed versions from the
// models bucket (polling gs:// or a read-only GCS FUSE volume), a Service, a HorizontalPodAutoscaler (CPU, and the
// server's own request rate or batch queue through Managed Prometheus), a PodDisruptionBudget, health probes on the
// Open Inference Protocol endpoints, a PodMonitoring for /metrics, optional GPU placement, an optional GKE Gateway with
// IAP in front, and the rollout strategy as a typed prop (Recreate, RollingUpdate, BlueGreen, Canary).
import { Construct } from 'constructs';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { DeploymentV1, DeploymentV1SpecTemplateSpecContainer, DeploymentV1SpecTemplateSpecVolume } from '@cdktf/provider-kubernetes/lib/deployment-v1';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { HorizontalPodAutoscalerV2 } from '@cdktf/provider-kubernetes/lib/horizontal-pod-autoscaler-v2';
import { PodDisruptionBudgetV1 } from '@cdktf/provider-kubernetes/lib/pod-disruption-budget-v1';
import { ConstructValidationError } from './errors';
import { IGrantableBucket } from './artifact-store';
import { GpuNodePool } from './gpu-node-pool';
import { RoleIdentity } from './workload-identity';
import { WorkloadNamespace } from './workload-namespace';
import { PolicyPack } from './policy/policy-pack';
import { imageDigest, isKubernetesName, isQuantity, unpinnedImageReason } from './workload-common';

/** REST port of `mlp serve` (TensorFlow Serving's). */
export const SERVING_PORT = 8501;
/** UID and GID of the runtime image's non-root user (runtime/images/Dockerfile: `mlp`, 10001). */
export const RUNTIME_UID = 10001;
/** Open Inference Protocol health endpoints the probes call. */
export const LIVENESS_PATH = '/v2/health/live';
export const READINESS_PATH = '/v2/health/ready';
/**
 * `mlp serve`'s drain on SIGTERM: it reports not ready at once, still accepts new connections for
 * DRAIN_ACCEPT_SECONDS (while the pod's removal from the Service reaches every node), answers what is in flight
 * and exits within DRAIN_SECONDS - inside the pod's grace period, so no request is cut off by SIGKILL (no preStop
 * hook is needed for that).
 */
export const DRAIN_SECONDS = 25;
export const DRAIN_ACCEPT_SECONDS = 5;
/** Kubernetes' default; the drain plus time to unload the model and exit. */
export const TERMINATION_GRACE_SECONDS = 30;

/** Replace every pod at once (downtime; for GPU pools without room for a second copy). */
export interface RecreateRollout { readonly kind: 'Recreate' }
/** Kubernetes rolling update. */
export interface RollingUpdateRollout {
  readonly kind: 'RollingUpdate';
  /**
   * Extra pods during the update (count or percentage).
   * @default '25%'
   */
  readonly maxSurge?: string;
  /**
   * Pods that may be unavailable during the update (count or percentage).
   * @default '0'
   */
  readonly maxUnavailable?: string;
}
/**
 * Two Deployments (`<name>-blue`, `<name>-green`); the Service sends all traffic to the `active` one by version label.
 * Cut-over: deploy the new image on the idle color with `idleReplicas` = minReplicas, check it, then switch `active`.
 */
export interface BlueGreenRollout {
  readonly kind: 'BlueGreen';
  /** The color the Service selects. Switching it is the cut-over; switching back is the rollback. */
  readonly active: 'blue' | 'green';
  /** Image of the blue Deployment (tag or digest). */
  readonly blueImage: string;
  /** Image of the green Deployment (tag or digest). */
  readonly greenImage: string;
  /**
   * Replicas of the idle color (0 frees its nodes; 1 keeps it warm for smoke tests and an instant rollback).
   * @default 1
   */
  readonly idleReplicas?: number;
}
/** A stable and a canary Deployment behind one Service (shared `app` label); traffic splits by replica ratio. */
export interface CanaryRollout {
  readonly kind: 'Canary';
  /** Image of the canary (the stable one runs `image`). */
  readonly canaryImage: string;
  /** Share of replicas (and so of requests) on the canary, 1-50 percent, at minReplicas. */
  readonly canaryPercent: number;
}
export type RolloutStrategy = RecreateRollout | RollingUpdateRollout | BlueGreenRollout | CanaryRollout;

/**
 * Pod metrics the HPA reads through the Custom Metrics Stackdriver Adapter (Managed Prometheus series, named
 * `prometheus.googleapis.com|<metric>|<kind>`; a counter arrives as its per-second rate).
 */
export const REQUEST_RATE_METRIC = 'prometheus.googleapis.com|mlp_serving_requests_total|counter';
export const QUEUED_ROWS_METRIC = 'prometheus.googleapis.com|mlp_serving_batch_queue_rows|gauge';

/**
 * An HTTPS entry point from outside the cluster: a GKE Gateway (global external Application Load Balancer), an
 * HTTPRoute to the Service, a health check on the readiness endpoint, and Identity-Aware Proxy in front, so only
 * principals with roles/iap.httpsResourceAccessor reach the model. Needs the Gateway API on the cluster.
 */
export interface ServingGateway {
  /** Host name clients use, e.g. `flights.ml.acme.com` (the server's Host check allows it). */
  readonly hostname: string;
  /** Name of a Compute Engine SSL certificate (or Certificate Manager classic cert) for the hostname. */
  readonly certificateName: string;
  /**
   * Name of a reserved global static IP address.
   * @default - an ephemeral address
   */
  readonly addressName?: string;
  /** IAP's OAuth client: its id and the Kubernetes Secret (key `key`) in the serving namespace holding its secret. */
  readonly iap: { readonly oauthClientId: string; readonly oauthClientSecretName: string };
  /**
   * GatewayClass.
   * @default 'gke-l7-global-external-managed'
   */
  readonly gatewayClassName?: string;
}

/** Where the server reads model versions from. */
export type ModelSource =
  /** `--model-base-path gs://...`: the server lists and downloads versions itself (workload identity). */
  | { readonly kind: 'gcs' }
  /** A read-only GCS FUSE CSI volume of the models bucket mounted at /models (`--model-base-path /models/...`). */
  | { readonly kind: 'gcs-fuse' };

export interface ModelServingProps {
  /** Deployment/Service name and `app` label (Kubernetes name). */
  readonly name: string;
  /** Model name the server serves (`--model-name`, URL path `/v1/models/<modelName>`). */
  readonly modelName: string;
  /**
   * Runtime image, by digest (`...runtime@sha256:<64 hex>`) or by tag (never `latest`). Only a digest pins the image:
   * a tag pins nothing where tags can be moved (ContainerRegistry makes them immutable by default). A digest of the
   * wrong form is refused.
   */
  readonly image: string;
  /**
   * Refuse images given by tag (Checkov's CKV_K8S_43 wants digests).
   * @default false
   */
  readonly requireDigest?: boolean;
  /** The bucket the Pusher writes to. */
  readonly modelsBucket: IGrantableBucket;
  /** Identity the pods run as (WorkloadIdentity `model-server`); its namespace is the serving namespace. Gets read on the bucket. */
  readonly identity: RoleIdentity;
  /**
   * The namespace construct the identity's namespace and service account come from (the Deployments reference them,
   * so they are created after).
   * @default - the namespace and service account exist already
   */
  readonly workloadNamespace?: WorkloadNamespace;
  /**
   * Path of the model's versions inside the bucket (versions are numeric subfolders).
   * @default `<modelName>`
   */
  readonly modelPath?: string;
  /**
   * How the server reads versions.
   * @default { kind: 'gcs' }
   */
  readonly modelSource?: ModelSource;
  /**
   * Rollout strategy.
   * @default { kind: 'RollingUpdate' } - surge 25%, never below the desired count
   */
  readonly rollout?: RolloutStrategy;
  /**
   * Minimum replicas (HPA lower bound).
   * @default 2
   */
  readonly minReplicas?: number;
  /**
   * Maximum replicas (HPA upper bound).
   * @default 10
   */
  readonly maxReplicas?: number;
  /**
   * Average CPU utilization the HPA aims for (percent of the request).
   * @default 70
   */
  readonly targetCpuUtilization?: number;
  /**
   * Also scale on the requests per second each pod answers (the rate of `mlp_serving_requests_total`, via Managed
   * Prometheus and the Custom Metrics Stackdriver Adapter, which must run in the cluster: see customMetricsAdapterInstalled); the HPA takes the largest
   * replica count any metric asks for.
   * @default - CPU (and targetQueuedRows) only
   */
  readonly targetRequestsPerSecond?: number;
  /**
   * Also scale on rows waiting in each pod's batch queue (`mlp_serving_batch_queue_rows`, same path as above).
   * @default - CPU (and targetRequestsPerSecond) only
   */
  readonly targetQueuedRows?: number;
  /**
   * The caller states that the Custom Metrics Stackdriver Adapter runs in the cluster (CustomMetricsAdapter, which
   * MlPlatform's workloads stack installs, or an install outside these stacks). ModelServing does not install it, and
   * without it an HPA on targetRequestsPerSecond or targetQueuedRows never gets its metric, so those props are refused
   * unless this is true.
   * @default false
   */
  readonly customMetricsAdapterInstalled?: boolean;
  /**
   * A PodMonitoring so Managed Service for Prometheus scrapes `/metrics` every 30 s: MlMonitoring's latency alert reads
   * the request-duration histogram, and the custom-metric targets above read the request and queue series.
   * @default true
   */
  readonly prometheusScrape?: boolean;
  /**
   * An external HTTPS entry point with IAP.
   * @default - in-cluster only (ClusterIP Service)
   */
  readonly gateway?: ServingGateway;
  /**
   * CPU request (and limit) per pod.
   * @default '1'
   */
  readonly cpu?: string;
  /**
   * Memory request (and limit) per pod.
   * @default '2Gi'
   */
  readonly memory?: string;
  /**
   * Run on a GPU pool: its tolerations and node selector, and `gpus` GPUs per pod.
   * @default - CPU only
   */
  readonly gpu?: { readonly pool: GpuNodePool; readonly gpus?: number };
  /**
   * Seconds between looks for new model versions.
   * @default 30
   */
  readonly pollSeconds?: number;
  /**
   * Pods the PodDisruptionBudget keeps available during voluntary disruptions (node upgrades).
   * @default 1
   */
  readonly minAvailable?: number;
}

/** The names a ClusterIP Service answers to in cluster DNS, short to fully qualified. */
function serviceHosts(service: string, namespace: string): string[] {
  return [service, `${service}.${namespace}`, `${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

/**
 * Model serving. Construct ids: `deployment` (or `deployment-blue`/`deployment-green`, or `deployment` +
 * `deployment-canary`), `service`, `hpa`, `pdb`, `pod-monitoring`, and with a gateway `gateway`, `http-route`,
 * `backend-policy`, `health-check-policy`.
 */
export class ModelServing extends Construct {
  readonly deployments: DeploymentV1[];
  readonly service: ServiceV1;
  readonly hpa: HorizontalPodAutoscalerV2;
  readonly pdb: PodDisruptionBudgetV1;
  /** The PodMonitoring, unless prometheusScrape is false. */
  readonly podMonitoring?: Manifest;
  /** Gateway, HTTPRoute, GCPBackendPolicy (IAP) and HealthCheckPolicy, with a gateway. */
  readonly gateway?: { readonly gateway: Manifest; readonly route: Manifest; readonly backendPolicy: Manifest; readonly healthCheckPolicy: Manifest };
  /** `https://<gateway hostname>`, with a gateway. */
  readonly externalUrl?: string;
  readonly namespace: string;
  /** In-cluster URL: `http://<name>.<namespace>.svc.cluster.local:8501`. */
  readonly url: string;

  constructor(scope: Construct, id: string, props: ModelServingProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('ModelServing', this, msg);
    const name = props.name;
    if (!isKubernetesName(name) || name.length > 50) throw fail(`name '${name}' must be a Kubernetes name of at most 50 characters (room for -canary/-green).`);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(props.modelName)) throw fail(`modelName '${props.modelName}' may contain letters, digits, '_', '.' and '-' only (no '/' or ':').`);
    const rollout = props.rollout ?? { kind: 'RollingUpdate' };
    const images = rollout.kind === 'BlueGreen' ? [rollout.blueImage, rollout.greenImage] : rollout.kind === 'Canary' ? [props.image, rollout.canaryImage] : [props.image];
    for (const image of images) {
      const why = unpinnedImageReason(image);
      if (why) throw fail(`${why}; pin a digest (image@sha256:<64 hex>) or the commit tag Cloud Build pushes, so a rollout is a change Terraform can see.`);
      if (props.requireDigest && imageDigest(image) === undefined) {
        throw fail(`image '${image}' is given by tag, but requireDigest is set: a tag pins nothing where it can be moved; use image@sha256:<64 hex> (e.g. from \`gcloud artifacts docker images describe\`).`);
      }
    }
    const byTag = images.filter((image) => imageDigest(image) === undefined);
    if (byTag.length > 0) {
      PolicyPack.suppress(this, 'CKV_K8S_43', `${byTag.length} serving image(s) given by the commit tag Cloud Build pushed (MLP_K8S_IMAGE_PINNED refuses latest); give image@sha256:<digest> (requireDigest enforces it) to pin the bytes.`);
    }
    const minReplicas = props.minReplicas ?? 2;
    const maxReplicas = props.maxReplicas ?? 10;
    if (!Number.isInteger(minReplicas) || minReplicas < 1) throw fail(`minReplicas ${minReplicas} must be a positive integer.`);
    if (!Number.isInteger(maxReplicas) || maxReplicas < minReplicas) throw fail(`maxReplicas ${maxReplicas} must be an integer of at least minReplicas (${minReplicas}).`);
    const target = props.targetCpuUtilization ?? 70;
    if (!Number.isInteger(target) || target < 10 || target > 95) throw fail(`targetCpuUtilization ${target} must be an integer percentage between 10 and 95.`);
    const cpu = props.cpu ?? '1';
    const memory = props.memory ?? '2Gi';
    if (!isQuantity(cpu)) throw fail(`cpu '${cpu}' is not a Kubernetes quantity like 500m or 2.`);
    if (!isQuantity(memory)) throw fail(`memory '${memory}' is not a Kubernetes quantity like 2Gi.`);
    const scrape = props.prometheusScrape ?? true;
    for (const [field, v] of [['targetRequestsPerSecond', props.targetRequestsPerSecond], ['targetQueuedRows', props.targetQueuedRows]] as const) {
      if (v === undefined) continue;
      if (!(Number.isFinite(v) && v > 0)) throw fail(`${field} ${v} must be a positive number.`);
      if (!scrape) throw fail(`${field} scales on a Managed Prometheus series, which prometheusScrape false turns off; enable prometheusScrape or drop ${field}.`);
      if (!props.customMetricsAdapterInstalled) {
        throw fail(`${field} needs the Custom Metrics Stackdriver Adapter in the cluster, which this stack does not install; install it and set customMetricsAdapterInstalled: true, or drop ${field}.`);
      }
    }
    const gw = props.gateway;
    if (gw) {
      if (!/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/.test(gw.hostname)) throw fail(`gateway hostname '${gw.hostname}' must be a lowercase DNS name like flights.ml.acme.com.`);
      if (!/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(gw.certificateName)) throw fail(`gateway certificateName '${gw.certificateName}' must be a Compute Engine resource name (lowercase letters, digits, '-').`);
      if (gw.addressName !== undefined && !/^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/.test(gw.addressName)) throw fail(`gateway addressName '${gw.addressName}' must be a Compute Engine resource name (lowercase letters, digits, '-').`);
      if (!/^[0-9]+-[a-z0-9]+\.apps\.googleusercontent\.com$/.test(gw.iap.oauthClientId)) throw fail(`gateway iap.oauthClientId '${gw.iap.oauthClientId}' must be an OAuth client id like 123-abc.apps.googleusercontent.com.`);
      if (!isKubernetesName(gw.iap.oauthClientSecretName)) throw fail(`gateway iap.oauthClientSecretName '${gw.iap.oauthClientSecretName}' must be a Kubernetes Secret name.`);
    }
    const poll = props.pollSeconds ?? 30;
    if (!(poll > 0)) throw fail(`pollSeconds ${poll} must be positive.`);
    const minAvailable = props.minAvailable ?? 1;
    if (!Number.isInteger(minAvailable) || minAvailable < 0) throw fail(`minAvailable ${minAvailable} must be a non-negative integer.`);
    if (minAvailable >= minReplicas && minReplicas > 0 && rollout.kind !== 'Canary') {
      throw fail(`minAvailable ${minAvailable} is not below minReplicas ${minReplicas}: node upgrades could never evict a pod; lower minAvailable or raise minReplicas.`);
    }
    if (rollout.kind === 'RollingUpdate') {
      const surge = rollout.maxSurge ?? '25%';
      const unavailable = rollout.maxUnavailable ?? '0';
      for (const [field, v] of [['maxSurge', surge], ['maxUnavailable', unavailable]] as const) {
        if (!/^(\d+|\d{1,3}%)$/.test(v)) throw fail(`rollout ${field} '${v}' must be a count like 1 or a percentage like 25%.`);
      }
      if (/^0%?$/.test(surge) && /^0%?$/.test(unavailable)) throw fail('rollout maxSurge and maxUnavailable are both 0, so the rollout could never progress; set maxSurge to 1 or 25%.');
    }
    if (rollout.kind === 'BlueGreen') {
      const idle = rollout.idleReplicas ?? 1;
      if (!Number.isInteger(idle) || idle < 0) throw fail(`rollout idleReplicas ${idle} must be a non-negative integer.`);
    }
    if (rollout.kind === 'Canary' && !(Number.isInteger(rollout.canaryPercent) && rollout.canaryPercent >= 1 && rollout.canaryPercent <= 50)) {
      throw fail(`rollout canaryPercent ${rollout.canaryPercent} must be an integer between 1 and 50; promote the canary by making its image the stable image.`);
    }
    const gpus = props.gpu ? props.gpu.gpus ?? 1 : 0;
    if (props.gpu) {
      if (!Number.isInteger(gpus) || gpus < 1 || gpus > props.gpu.pool.gpusPerNode) throw fail(`gpu.gpus ${gpus} must be between 1 and the pool's ${props.gpu.pool.gpusPerNode} GPUs per node.`);
    }
    const modelPath = (props.modelPath ?? props.modelName).replace(/^\/+|\/+$/g, '');
    if (!modelPath || modelPath.includes('..')) throw fail(`modelPath '${props.modelPath}' must be a path inside the bucket.`);

    if (props.workloadNamespace && props.workloadNamespace.name !== props.identity.kubernetesNamespace) {
      throw fail(`workloadNamespace is '${props.workloadNamespace.name}' but the identity's service account lives in '${props.identity.kubernetesNamespace}'.`);
    }
    this.namespace = props.identity.kubernetesNamespace;
    const namespaceRef = props.workloadNamespace?.namespace.metadata.name ?? this.namespace;
    const ksa = props.workloadNamespace?.serviceAccounts[props.identity.role];
    const serviceAccountRef = ksa ? ksa.metadata.name : props.identity.kubernetesServiceAccount;
    this.url = `http://${name}.${this.namespace}.svc.cluster.local:${SERVING_PORT}`;
    props.modelsBucket.grantRead(props.identity);
    const source = props.modelSource ?? { kind: 'gcs' };
    const basePath = source.kind === 'gcs' ? `${props.modelsBucket.url}/${modelPath}` : `/models/${modelPath}`;

    const container = (image: string): DeploymentV1SpecTemplateSpecContainer => ({
      name: 'server',
      image,
      // Every pod start asks the registry what the reference names (CKV_K8S_15): a node never runs a stale cached tag.
      imagePullPolicy: 'Always',
      command: ['mlp'],
      args: ['serve', '--model-base-path', basePath, '--model-name', props.modelName, '--port', String(SERVING_PORT), '--host', '0.0.0.0', '--poll-seconds', String(poll),
        '--drain-seconds', String(DRAIN_SECONDS), '--drain-accept-seconds', String(DRAIN_ACCEPT_SECONDS),
        // The Service's names in-cluster callers use; probes send the pod IP, which mlp serve always answers.
        '--allowed-hosts', [...serviceHosts(name, this.namespace), ...(gw ? [gw.hostname] : [])].join(',')],
      port: [{ name: 'http', containerPort: SERVING_PORT }],
      resources: {
        requests: { cpu, memory },
        limits: { cpu, memory, ...(props.gpu ? props.gpu.pool.resourceLimits(gpus) : {}) },
      },
      // Generous startup window: the first version is downloaded and loaded before the server is ready.
      startupProbe: { httpGet: { path: LIVENESS_PATH, port: String(SERVING_PORT) }, periodSeconds: 5, failureThreshold: 60 },
      livenessProbe: { httpGet: { path: LIVENESS_PATH, port: String(SERVING_PORT) }, periodSeconds: 10, timeoutSeconds: 2, failureThreshold: 3 },
      readinessProbe: { httpGet: { path: READINESS_PATH, port: String(SERVING_PORT) }, periodSeconds: 5, timeoutSeconds: 2, failureThreshold: 2 },
      securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
      volumeMount: [
        { name: 'tmp', mountPath: '/tmp' },
        ...(source.kind === 'gcs-fuse' ? [{ name: 'models', mountPath: '/models', readOnly: true }] : []),
      ],
    });
    const volumes: DeploymentV1SpecTemplateSpecVolume[] = [
      { name: 'tmp', emptyDir: { sizeLimit: '2Gi' } },
      ...(source.kind === 'gcs-fuse'
        ? [{ name: 'models', csi: { driver: 'gcsfuse.csi.storage.gke.io', readOnly: true, volumeAttributes: { bucketName: props.modelsBucket.bucketName, mountOptions: `implicit-dirs,only-dir=${modelPath},metadata-cache:ttl-secs:${Math.max(1, Math.round(poll))}` } } }]
        : []),
    ];
    const app = { 'app.kubernetes.io/name': name, 'app.kubernetes.io/component': 'model-server', 'mlp/model': props.modelName };
    const deployment = (cid: string, deploymentName: string, image: string, extraLabels: { [k: string]: string }, replicas: number, autoscaled: boolean) =>
      new DeploymentV1(this, cid, {
        metadata: { name: deploymentName, namespace: namespaceRef, labels: { ...app, ...extraLabels } },
        // The HPA owns the replica count of the Deployment it scales; Terraform must not fight it.
        lifecycle: autoscaled ? { ignoreChanges: ['spec[0].replicas'] } : undefined,
        waitForRollout: true,
        spec: {
          replicas: String(replicas),
          revisionHistoryLimit: 5,
          selector: { matchLabels: { 'app.kubernetes.io/name': name, ...extraLabels } },
          strategy: rollout.kind === 'Recreate'
            ? { type: 'Recreate' }
            : { type: 'RollingUpdate', rollingUpdate: rollout.kind === 'RollingUpdate' ? { maxSurge: rollout.maxSurge ?? '25%', maxUnavailable: rollout.maxUnavailable ?? '0' } : { maxSurge: '25%', maxUnavailable: '0' } },
          template: {
            metadata: {
              labels: { ...app, ...extraLabels },
              annotations: source.kind === 'gcs-fuse' ? { 'gke-gcsfuse/volumes': 'true' } : undefined,
            },
            spec: {
              serviceAccountName: serviceAccountRef,
              automountServiceAccountToken: false,
              terminationGracePeriodSeconds: TERMINATION_GRACE_SECONDS,
              securityContext: { runAsNonRoot: true, runAsUser: String(RUNTIME_UID), runAsGroup: String(RUNTIME_UID), fsGroup: String(RUNTIME_UID), seccompProfile: { type: 'RuntimeDefault' } },
              nodeSelector: props.gpu ? props.gpu.pool.nodeSelector() : undefined,
              toleration: props.gpu ? props.gpu.pool.tolerations().map((t) => ({ ...t })) : undefined,
              topologySpreadConstraint: [{
                maxSkew: 1,
                topologyKey: 'topology.kubernetes.io/zone',
                whenUnsatisfiable: 'ScheduleAnyway',
                labelSelector: [{ matchLabels: { 'app.kubernetes.io/name': name } }],
              }],
              container: [container(image)],
              volume: volumes,
            },
          },
        },
      });

    let scaled: DeploymentV1;
    let serviceSelector: { [k: string]: string };
    let pdbSelector: { [k: string]: string };
    switch (rollout.kind) {
      case 'BlueGreen': {
        const idle = rollout.idleReplicas ?? 1;
        const blue = deployment('deployment-blue', `${name}-blue`, rollout.blueImage, { 'mlp/version': 'blue' }, rollout.active === 'blue' ? minReplicas : idle, rollout.active === 'blue');
        const green = deployment('deployment-green', `${name}-green`, rollout.greenImage, { 'mlp/version': 'green' }, rollout.active === 'green' ? minReplicas : idle, rollout.active === 'green');
        this.deployments = [blue, green];
        scaled = rollout.active === 'blue' ? blue : green;
        serviceSelector = { 'app.kubernetes.io/name': name, 'mlp/version': rollout.active };
        pdbSelector = serviceSelector;
        break;
      }
      case 'Canary': {
        const canaryReplicas = Math.max(1, Math.round((minReplicas * rollout.canaryPercent) / (100 - rollout.canaryPercent)));
        const stable = deployment('deployment', name, props.image, { 'mlp/track': 'stable' }, minReplicas, true);
        const canary = deployment('deployment-canary', `${name}-canary`, rollout.canaryImage, { 'mlp/track': 'canary' }, canaryReplicas, false);
        this.deployments = [stable, canary];
        scaled = stable;
        serviceSelector = { 'app.kubernetes.io/name': name };
        pdbSelector = { 'app.kubernetes.io/name': name, 'mlp/track': 'stable' };
        break;
      }
      default: {
        const only = deployment('deployment', name, props.image, {}, minReplicas, true);
        this.deployments = [only];
        scaled = only;
        serviceSelector = { 'app.kubernetes.io/name': name };
        pdbSelector = serviceSelector;
      }
    }

    this.service = new ServiceV1(this, 'service', {
      metadata: { name, namespace: namespaceRef, labels: app },
      spec: {
        type: 'ClusterIP',
        selector: serviceSelector,
        port: [{ name: 'http', port: SERVING_PORT, targetPort: String(SERVING_PORT), protocol: 'TCP' }],
      },
    });
    this.hpa = new HorizontalPodAutoscalerV2(this, 'hpa', {
      metadata: { name, namespace: namespaceRef, labels: app },
      spec: {
        minReplicas,
        maxReplicas,
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: scaled.metadata.name },
        metric: [
          { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: target } } },
          ...(props.targetRequestsPerSecond !== undefined ? [{ type: 'Pods', pods: { metric: { name: REQUEST_RATE_METRIC }, target: { type: 'AverageValue', averageValue: String(props.targetRequestsPerSecond) } } }] : []),
          ...(props.targetQueuedRows !== undefined ? [{ type: 'Pods', pods: { metric: { name: QUEUED_ROWS_METRIC }, target: { type: 'AverageValue', averageValue: String(props.targetQueuedRows) } } }] : []),
        ],
        behavior: { scaleDown: [{ stabilizationWindowSeconds: 300, selectPolicy: 'Max', policy: [{ type: 'Percent', value: 50, periodSeconds: 60 }] }] },
      },
    });
    this.pdb = new PodDisruptionBudgetV1(this, 'pdb', {
      metadata: { name, namespace: namespaceRef, labels: app },
      spec: { minAvailable: String(minAvailable), selector: { matchLabels: pdbSelector } },
    });
    // kubernetes_manifest needs literal names at plan time; it waits for the namespace through dependsOn.
    const manifest = (cid: string, body: { [k: string]: unknown }) => new Manifest(this, cid, {
      manifest: body,
      dependsOn: props.workloadNamespace ? [props.workloadNamespace.namespace] : undefined,
    });
    const metadata = (suffix = '') => ({ name: `${name}${suffix}`, namespace: this.namespace, labels: app });
    if (scrape) {
      this.podMonitoring = manifest('pod-monitoring', {
        apiVersion: 'monitoring.googleapis.com/v1', kind: 'PodMonitoring', metadata: metadata(),
        spec: { selector: { matchLabels: { 'app.kubernetes.io/name': name } }, endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }] },
      });
    }
    if (gw) {
      const serviceRef = { group: '', kind: 'Service', name };
      const gateway = manifest('gateway', {
        apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: metadata(),
        spec: {
          gatewayClassName: gw.gatewayClassName ?? 'gke-l7-global-external-managed',
          listeners: [{ name: 'https', protocol: 'HTTPS', port: 443, hostname: gw.hostname, tls: { mode: 'Terminate', options: { 'networking.gke.io/pre-shared-certs': gw.certificateName } } }],
          ...(gw.addressName ? { addresses: [{ type: 'NamedAddress', value: gw.addressName }] } : {}),
        },
      });
      const route = manifest('http-route', {
        apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: metadata(),
        spec: { parentRefs: [{ name }], hostnames: [gw.hostname], rules: [{ backendRefs: [{ name, port: SERVING_PORT }] }] },
      });
      const backendPolicy = manifest('backend-policy', {
        apiVersion: 'networking.gke.io/v1', kind: 'GCPBackendPolicy', metadata: metadata(),
        spec: { targetRef: serviceRef, default: { iap: { enabled: true, clientID: gw.iap.oauthClientId, oauth2ClientSecret: { name: gw.iap.oauthClientSecretName } } } },
      });
      const healthCheckPolicy = manifest('health-check-policy', {
        apiVersion: 'networking.gke.io/v1', kind: 'HealthCheckPolicy', metadata: metadata(),
        spec: { targetRef: serviceRef, default: { config: { type: 'HTTP', httpHealthCheck: { port: SERVING_PORT, requestPath: READINESS_PATH } } } },
      });
      this.gateway = { gateway, route, backendPolicy, healthCheckPolicy };
      this.externalUrl = `https://${gw.hostname}`;
    }
  }
}
