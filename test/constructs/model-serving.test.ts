// ModelServing: Deployment(s), Service, HPA and PDB per rollout strategy; probes on the OIP health endpoints; GPU
// placement from GpuNodePool; gs:// polling or GCS FUSE; the model-server identity's read grant; validation errors.
import { Testing } from 'cdktf';
import { ServiceV1 } from '@cdktf/provider-kubernetes/lib/service-v1';
import { DRAIN_SECONDS, ModelServing, ModelServingProps } from '../../constructs/model-serving';
import { WorkloadNamespace } from '../../constructs/workload-namespace';
import { PolicyPack } from '../../constructs/policy/policy-pack';
import { IMAGE, Json, WorkloadBase, errorOf, onlyResource, resourcesOf, synthJson, workloadBase } from './helpers';

const CANARY = IMAGE.replace(':0.1.0', ':0.2.0');

function serving(base: WorkloadBase, props: Partial<ModelServingProps> = {}, id = 'serving') {
  return new ModelServing(base.stack, id, {
    name: 'flights', modelName: 'flights', image: IMAGE, modelsBucket: base.store.models, identity: base.identities.identity('model-server'), ...props,
  });
}
const deployments = (json: Json) => resourcesOf(json, 'kubernetes_deployment_v1');
const podSpec = (d: Json) => d.spec.template.spec;
const container = (d: Json) => podSpec(d).container[0];

describe('ModelServing', () => {
  test('RollingUpdate (default): one Deployment running mlp serve on gs://, probes, hardened container, Service, HPA and PDB', () => {
    const base = workloadBase();
    const ns = new WorkloadNamespace(base.stack, 'namespace', { identities: base.identities.all });
    const s = serving(base, { workloadNamespace: ns });
    const json = synthJson(base.stack);
    const [d] = deployments(json);
    expect(d.metadata).toMatchObject({ name: 'flights', namespace: expect.stringMatching(/^\$\{kubernetes_namespace_v1\.namespace_[0-9A-F]+\.metadata\[0\]\.name\}$/) });
    expect(d.lifecycle).toEqual({ ignore_changes: ['spec[0].replicas'] });
    expect(d.spec).toMatchObject({
      replicas: '2',
      selector: { match_labels: { 'app.kubernetes.io/name': 'flights' } },
      strategy: { type: 'RollingUpdate', rolling_update: { max_surge: '25%', max_unavailable: '0' } },
    });
    expect(podSpec(d).service_account_name).toMatch(/^\$\{kubernetes_service_account_v1\.namespace_ksa-model-server_[0-9A-F]+\.metadata\[0\]\.name\}$/);
    expect(container(d)).toMatchObject({
      image: IMAGE,
      command: ['mlp'],
      args: [
        'serve', '--model-base-path', 'gs://acme-ml-test-models/flights', '--model-name', 'flights', '--port', '8501', '--host', '0.0.0.0', '--poll-seconds', '30',
        '--drain-seconds', '25', '--drain-accept-seconds', '5',
        // Host names besides the pod IP the probes send: the Service's, as in-cluster callers (s.url) use them.
        '--allowed-hosts', 'flights,flights.ml-platform,flights.ml-platform.svc,flights.ml-platform.svc.cluster.local',
      ],
      liveness_probe: { http_get: { path: '/v2/health/live', port: '8501' } },
      readiness_probe: { http_get: { path: '/v2/health/ready', port: '8501' } },
      startup_probe: { http_get: { path: '/v2/health/live', port: '8501' }, failure_threshold: 60 },
      security_context: { run_as_non_root: true, allow_privilege_escalation: false, read_only_root_filesystem: true, capabilities: { drop: ['ALL'] } },
      resources: { requests: { cpu: '1', memory: '2Gi' }, limits: { cpu: '1', memory: '2Gi' } },
    });
    expect(podSpec(d).toleration).toBeUndefined();
    // SIGTERM's drain (not ready, accepting for 5 s, in-flight answered) ends before the grace period's SIGKILL.
    expect(podSpec(d).termination_grace_period_seconds).toBe(30);
    expect(DRAIN_SECONDS).toBeLessThan(podSpec(d).termination_grace_period_seconds);
    expect(Testing.synth(base.stack)).toHaveResourceWithProperties(ServiceV1, {
      spec: { type: 'ClusterIP', selector: { 'app.kubernetes.io/name': 'flights' }, port: [{ name: 'http', port: 8501, target_port: '8501', protocol: 'TCP' }] },
    });
    expect(onlyResource(json, 'kubernetes_horizontal_pod_autoscaler_v2').spec).toMatchObject({
      min_replicas: 2, max_replicas: 10,
      scale_target_ref: { api_version: 'apps/v1', kind: 'Deployment', name: expect.stringMatching(/^\$\{kubernetes_deployment_v1\.serving_deployment_[0-9A-F]+\.metadata\[0\]\.name\}$/) },
      metric: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', average_utilization: 70 } } }],
    });
    expect(onlyResource(json, 'kubernetes_pod_disruption_budget_v1').spec).toEqual({ min_available: '1', selector: { match_labels: { 'app.kubernetes.io/name': 'flights' } } });
    expect(resourcesOf(json, 'google_storage_bucket_iam_member').filter((m) => String(m.member).includes('model-server')).map((m) => `${m.bucket} ${m.role}`))
      .toEqual(['${google_storage_bucket.artifacts_models_bucket_F59FDA74.name} roles/storage.objectViewer']);
    expect(s.url).toBe('http://flights.ml-platform.svc.cluster.local:8501');
  });

  test('Recreate', () => {
    const base = workloadBase();
    serving(base, { rollout: { kind: 'Recreate' } });
    expect(deployments(synthJson(base.stack))[0].spec.strategy).toEqual({ type: 'Recreate' });
  });

  test('BlueGreen: two Deployments by version label; the Service, HPA and PDB follow the active color', () => {
    const base = workloadBase();
    serving(base, { rollout: { kind: 'BlueGreen', active: 'green', blueImage: IMAGE, greenImage: CANARY, idleReplicas: 0 }, minReplicas: 3 });
    const json = synthJson(base.stack);
    const byName = Object.fromEntries(deployments(json).map((d) => [d.metadata.name, d]));
    expect(Object.keys(byName).sort()).toEqual(['flights-blue', 'flights-green']);
    expect(byName['flights-blue'].spec).toMatchObject({ replicas: '0', selector: { match_labels: { 'app.kubernetes.io/name': 'flights', 'mlp/version': 'blue' } } });
    expect(byName['flights-green'].spec).toMatchObject({ replicas: '3', selector: { match_labels: { 'app.kubernetes.io/name': 'flights', 'mlp/version': 'green' } } });
    expect(container(byName['flights-green']).image).toBe(CANARY);
    expect(byName['flights-blue'].lifecycle).toBeUndefined();
    expect(byName['flights-green'].lifecycle).toEqual({ ignore_changes: ['spec[0].replicas'] });
    expect(onlyResource(json, 'kubernetes_service_v1').spec.selector).toEqual({ 'app.kubernetes.io/name': 'flights', 'mlp/version': 'green' });
    expect(onlyResource(json, 'kubernetes_horizontal_pod_autoscaler_v2').spec.scale_target_ref.name).toMatch(/serving_deployment-green_/);
    expect(onlyResource(json, 'kubernetes_pod_disruption_budget_v1').spec.selector.match_labels).toEqual({ 'app.kubernetes.io/name': 'flights', 'mlp/version': 'green' });
  });

  test('Canary: stable and canary Deployments share the app label; replicas follow the ratio; the Service selects both', () => {
    const base = workloadBase();
    serving(base, { rollout: { kind: 'Canary', canaryImage: CANARY, canaryPercent: 20 }, minReplicas: 4 });
    const json = synthJson(base.stack);
    const byName = Object.fromEntries(deployments(json).map((d) => [d.metadata.name, d]));
    expect(byName.flights.spec).toMatchObject({ replicas: '4', selector: { match_labels: { 'app.kubernetes.io/name': 'flights', 'mlp/track': 'stable' } } });
    expect(byName['flights-canary'].spec).toMatchObject({ replicas: '1', selector: { match_labels: { 'app.kubernetes.io/name': 'flights', 'mlp/track': 'canary' } } });
    expect(container(byName['flights-canary']).image).toBe(CANARY);
    expect(onlyResource(json, 'kubernetes_service_v1').spec.selector).toEqual({ 'app.kubernetes.io/name': 'flights' });
    expect(onlyResource(json, 'kubernetes_horizontal_pod_autoscaler_v2').spec.scale_target_ref.name).toMatch(/serving_deployment_[0-9A-F]+\.metadata/);
  });

  test('GPU serving uses the pool\'s tolerations, node selector and GPU limit; GCS FUSE mounts the bucket read-only', () => {
    const base = workloadBase();
    serving(base, { gpu: { pool: base.gpuPool, gpus: 2 }, modelSource: { kind: 'gcs-fuse' } });
    const [d] = deployments(synthJson(base.stack));
    expect(podSpec(d).toleration).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
    expect(podSpec(d).node_selector).toEqual({ 'cloud.google.com/gke-accelerator': 'nvidia-l4', 'cloud.google.com/gke-nodepool': 'l4' });
    expect(container(d).resources.limits['nvidia.com/gpu']).toBe('2');
    expect(container(d).args.slice(0, 3)).toEqual(['serve', '--model-base-path', '/models/flights']);
    expect(d.spec.template.metadata.annotations).toEqual({ 'gke-gcsfuse/volumes': 'true' });
    expect(podSpec(d).volume).toContainEqual({
      name: 'models',
      csi: { driver: 'gcsfuse.csi.storage.gke.io', read_only: true, volume_attributes: { bucketName: 'acme-ml-test-models', mountOptions: 'implicit-dirs,only-dir=flights,metadata-cache:ttl-secs:30' } },
    });
    expect(container(d).volume_mount).toContainEqual({ name: 'models', mount_path: '/models', read_only: true });
  });

  test('refuses unpinned images, impossible rollouts and budgets, naming the fix', () => {
    const base = workloadBase();
    expect(errorOf(() => serving(base, { image: 'us-central1-docker.pkg.dev/p/r/runtime' }, 's1'))).toBe(
      "ModelServing 'test/s1': image 'us-central1-docker.pkg.dev/p/r/runtime' has no tag (it means :latest); pin a digest (image@sha256:<64 hex>) or the commit tag Cloud Build pushes, so a rollout is a change Terraform can see.");
    expect(errorOf(() => serving(base, { rollout: { kind: 'RollingUpdate', maxSurge: '0', maxUnavailable: '0%' } }, 's2'))).toBe(
      "ModelServing 'test/s2': rollout maxSurge and maxUnavailable are both 0, so the rollout could never progress; set maxSurge to 1 or 25%.");
    expect(errorOf(() => serving(base, { rollout: { kind: 'Canary', canaryImage: CANARY, canaryPercent: 80 } }, 's3'))).toBe(
      "ModelServing 'test/s3': rollout canaryPercent 80 must be an integer between 1 and 50; promote the canary by making its image the stable image.");
    expect(errorOf(() => serving(base, { minReplicas: 1 }, 's4'))).toBe(
      "ModelServing 'test/s4': minAvailable 1 is not below minReplicas 1: node upgrades could never evict a pod; lower minAvailable or raise minReplicas.");
    expect(errorOf(() => serving(base, { gpu: { pool: base.gpuPool, gpus: 3 } }, 's5'))).toBe(
      "ModelServing 'test/s5': gpu.gpus 3 must be between 1 and the pool's 2 GPUs per node.");
    expect(errorOf(() => serving(base, { rollout: { kind: 'BlueGreen', active: 'blue', blueImage: IMAGE, greenImage: 'runtime:latest' } }, 's6'))).toMatch(
      /^ModelServing 'test\/s6': image 'runtime:latest' uses the tag 'latest'/);
    expect(errorOf(() => serving(base, { modelName: 'team/flights' }, 's7'))).toBe(
      "ModelServing 'test/s7': modelName 'team/flights' may contain letters, digits, '_', '.' and '-' only (no '/' or ':').");
  });
});

const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const manifests = (json: Json) => resourcesOf(json, 'kubernetes_manifest').map((m) => m.manifest);
const manifestOf = (json: Json, kind: string) => manifests(json).find((m) => m.kind === kind);

describe('ModelServing images by digest', () => {
  test('a digest is taken as given; a tag still is unless requireDigest; a malformed digest is refused', () => {
    const base = workloadBase();
    const byDigest = IMAGE.replace(':0.1.0', `@${DIGEST}`);
    serving(base, { image: byDigest, requireDigest: true });
    expect(container(deployments(synthJson(base.stack))[0]).image).toBe(byDigest);
    const tagAndDigest = `${IMAGE}@${DIGEST}`;
    serving(base, { name: 'flights-b', image: tagAndDigest, requireDigest: true }, 'b');
    expect(errorOf(() => serving(workloadBase(), { requireDigest: true }))).toBe(
      `ModelServing 'test/serving': image '${IMAGE}' is given by tag, but requireDigest is set: a tag pins nothing where it can be moved; use image@sha256:<64 hex> (e.g. from \`gcloud artifacts docker images describe\`).`);
    expect(errorOf(() => serving(workloadBase(), { image: IMAGE.replace(':0.1.0', '@sha256:abc') }))).toBe(
      "ModelServing 'test/serving': image 'us-central1-docker.pkg.dev/acme-ml-test/ml-images/runtime@sha256:abc' has a malformed digest 'sha256:abc' (a digest is sha256: followed by 64 lowercase hex digits); "
      + 'pin a digest (image@sha256:<64 hex>) or the commit tag Cloud Build pushes, so a rollout is a change Terraform can see.');
    expect(errorOf(() => serving(workloadBase(), { rollout: { kind: 'Canary', canaryImage: `${IMAGE}@${DIGEST.toUpperCase()}`, canaryPercent: 10 } }))).toMatch(/has a malformed digest 'SHA256:0123/);
  });

  // Checkov's CKV_K8S_43 wants an '@' in every image and CKV_K8S_15 a pull policy of Always.
  test('images by digest pass CKV_K8S_43; a tag anywhere suppresses it with the reason; every container pulls Always', () => {
    const k8s = (base: WorkloadBase) => {
      const report = new PolicyPack().evaluate(base.stack);
      return [...report.violations, ...report.suppressed].filter((f) => f.ruleId.startsWith('CKV_K8S_')).map((f) => `${f.ruleId} ${f.path}`);
    };
    const pinned = workloadBase();
    serving(pinned, { image: IMAGE.replace(':0.1.0', `@${DIGEST}`) });
    expect(deployments(synthJson(pinned.stack)).map((d) => container(d).image_pull_policy)).toEqual(['Always']);
    expect(k8s(pinned)).toEqual([]);
    const canary = workloadBase();
    serving(canary, { image: IMAGE.replace(':0.1.0', `@${DIGEST}`), rollout: { kind: 'Canary', canaryImage: CANARY, canaryPercent: 10 } });
    expect(deployments(synthJson(canary.stack)).map((d) => container(d).image_pull_policy)).toEqual(['Always', 'Always']);
    const report = new PolicyPack().evaluate(canary.stack);
    expect(report.violations.filter((v) => v.ruleId.startsWith('CKV_K8S_'))).toEqual([]);
    expect(report.suppressed.filter((f) => f.ruleId.startsWith('CKV_K8S_')).map((f) => [f.ruleId, f.path, f.reason])).toEqual([
      ['CKV_K8S_43', 'test/serving/deployment-canary', expect.stringMatching(/^1 serving image\(s\) given by the commit tag Cloud Build pushed/)],
    ]);
  });
});

describe('ModelServing autoscaling on its own metrics, Prometheus scraping and the IAP gateway', () => {
  test('PodMonitoring scrapes /metrics by default; the HPA adds the request rate and queued rows as pod metrics', () => {
    const base = workloadBase();
    serving(base, { targetRequestsPerSecond: 40, targetQueuedRows: 64, customMetricsAdapterInstalled: true });
    const json = synthJson(base.stack);
    expect(manifestOf(json, 'PodMonitoring')).toEqual({
      apiVersion: 'monitoring.googleapis.com/v1', kind: 'PodMonitoring',
      metadata: { name: 'flights', namespace: 'ml-platform', labels: { 'app.kubernetes.io/name': 'flights', 'app.kubernetes.io/component': 'model-server', 'mlp/model': 'flights' } },
      spec: { selector: { matchLabels: { 'app.kubernetes.io/name': 'flights' } }, endpoints: [{ port: 'http', path: '/metrics', interval: '30s' }] },
    });
    expect(onlyResource(json, 'kubernetes_horizontal_pod_autoscaler_v2').spec.metric).toEqual([
      { type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', average_utilization: 70 } } },
      { type: 'Pods', pods: { metric: { name: 'prometheus.googleapis.com|mlp_serving_requests_total|counter' }, target: { type: 'AverageValue', average_value: '40' } } },
      { type: 'Pods', pods: { metric: { name: 'prometheus.googleapis.com|mlp_serving_batch_queue_rows|gauge' }, target: { type: 'AverageValue', average_value: '64' } } },
    ]);
  });

  test('prometheusScrape false: no PodMonitoring, and custom-metric targets are refused; targets must be positive', () => {
    const base = workloadBase();
    serving(base, { prometheusScrape: false });
    expect(manifestOf(synthJson(base.stack), 'PodMonitoring')).toBeUndefined();
    expect(errorOf(() => serving(workloadBase(), { prometheusScrape: false, targetQueuedRows: 10, customMetricsAdapterInstalled: true }))).toBe(
      "ModelServing 'test/serving': targetQueuedRows scales on a Managed Prometheus series, which prometheusScrape false turns off; enable prometheusScrape or drop targetQueuedRows.");
    expect(errorOf(() => serving(workloadBase(), { targetRequestsPerSecond: 0 }))).toBe("ModelServing 'test/serving': targetRequestsPerSecond 0 must be a positive number.");
  });

  test('custom-metric targets are refused unless the caller states the Custom Metrics Stackdriver Adapter is installed', () => {
    for (const [field, props] of [['targetRequestsPerSecond', { targetRequestsPerSecond: 40 }], ['targetQueuedRows', { targetQueuedRows: 64, customMetricsAdapterInstalled: false }]] as const) {
      expect(errorOf(() => serving(workloadBase(), props))).toBe(
        `ModelServing 'test/serving': ${field} needs the Custom Metrics Stackdriver Adapter in the cluster, which this stack does not install; install it and set customMetricsAdapterInstalled: true, or drop ${field}.`);
    }
  });

  test('gateway: Gateway (HTTPS, pre-shared certificate, static IP), HTTPRoute, IAP backend policy, readiness health check; the server allows the hostname', () => {
    const base = workloadBase();
    const s = serving(base, {
      gateway: { hostname: 'flights.ml.acme.com', certificateName: 'flights-cert', addressName: 'flights-ip', iap: { oauthClientId: '123-abc.apps.googleusercontent.com', oauthClientSecretName: 'flights-iap' } },
    });
    const json = synthJson(base.stack);
    expect(manifestOf(json, 'Gateway').spec).toEqual({
      gatewayClassName: 'gke-l7-global-external-managed',
      listeners: [{ name: 'https', protocol: 'HTTPS', port: 443, hostname: 'flights.ml.acme.com', tls: { mode: 'Terminate', options: { 'networking.gke.io/pre-shared-certs': 'flights-cert' } } }],
      addresses: [{ type: 'NamedAddress', value: 'flights-ip' }],
    });
    expect(manifestOf(json, 'HTTPRoute').spec).toEqual({ parentRefs: [{ name: 'flights' }], hostnames: ['flights.ml.acme.com'], rules: [{ backendRefs: [{ name: 'flights', port: 8501 }] }] });
    expect(manifestOf(json, 'GCPBackendPolicy').spec).toEqual({
      targetRef: { group: '', kind: 'Service', name: 'flights' },
      default: { iap: { enabled: true, clientID: '123-abc.apps.googleusercontent.com', oauth2ClientSecret: { name: 'flights-iap' } } },
    });
    expect(manifestOf(json, 'HealthCheckPolicy').spec.default).toEqual({ config: { type: 'HTTP', httpHealthCheck: { port: 8501, requestPath: '/v2/health/ready' } } });
    const args: string[] = container(deployments(json)[0]).args;
    expect(args[args.indexOf('--allowed-hosts') + 1].split(',')).toContain('flights.ml.acme.com');
    expect(s.externalUrl).toBe('https://flights.ml.acme.com');
  });

  test('gateway validation names the field', () => {
    const gw = { hostname: 'flights.ml.acme.com', certificateName: 'flights-cert', iap: { oauthClientId: '123-abc.apps.googleusercontent.com', oauthClientSecretName: 'flights-iap' } };
    expect(errorOf(() => serving(workloadBase(), { gateway: { ...gw, hostname: 'Flights' } }))).toBe("ModelServing 'test/serving': gateway hostname 'Flights' must be a lowercase DNS name like flights.ml.acme.com.");
    expect(errorOf(() => serving(workloadBase(), { gateway: { ...gw, certificateName: 'Cert_1' } }))).toMatch(/gateway certificateName 'Cert_1' must be a Compute Engine resource name/);
    expect(errorOf(() => serving(workloadBase(), { gateway: { ...gw, iap: { ...gw.iap, oauthClientId: 'abc' } } }))).toMatch(/gateway iap.oauthClientId 'abc' must be an OAuth client id/);
    expect(errorOf(() => serving(workloadBase(), { gateway: { ...gw, iap: { ...gw.iap, oauthClientSecretName: 'IAP' } } }))).toMatch(/gateway iap.oauthClientSecretName 'IAP' must be a Kubernetes Secret name/);
  });
});
