// CustomMetricsAdapter: the upstream adapter objects as kubernetes_manifest, and the Workload Identity grant that lets
// its Kubernetes service account read Cloud Monitoring.
import { CustomMetricsAdapter, CUSTOM_METRICS_ADAPTER_IMAGE } from '../../constructs/custom-metrics-adapter';
import { Json, baseStack, resourcesOf, synthJson } from './helpers';

describe('CustomMetricsAdapter', () => {
  test('serves custom.metrics.k8s.io and external.metrics.k8s.io from a pinned adapter whose service account may read metrics', () => {
    const base = baseStack();
    new CustomMetricsAdapter(base.stack, 'adapter', { cluster: base.cluster });
    const json = synthJson(base.stack);
    const viewers = resourcesOf(json, 'google_project_iam_member').filter((m) => m.role === 'roles/monitoring.viewer');
    expect(viewers).toHaveLength(1);
    expect(viewers[0]).toMatchObject({ project: 'acme-ml-test' });
    expect(viewers[0].member).toMatch(
      /^principal:\/\/iam\.googleapis\.com\/projects\/\$\{data\.google_project\.adapter_project_[A-Z0-9]+\.number\}\/locations\/global\/workloadIdentityPools\/acme-ml-test\.svc\.id\.goog\/subject\/ns\/custom-metrics\/sa\/custom-metrics-stackdriver-adapter$/);
    const manifests = resourcesOf(json, 'kubernetes_manifest').map((m) => m.manifest as Json);
    expect(manifests.map((m) => `${m.kind}/${m.metadata.name}`).sort()).toEqual([
      'APIService/v1beta1.custom.metrics.k8s.io', 'APIService/v1beta1.external.metrics.k8s.io', 'APIService/v1beta2.custom.metrics.k8s.io',
      'ClusterRole/custom-metrics-resource-reader', 'ClusterRole/external-metrics-reader',
      'ClusterRoleBinding/custom-metrics-resource-reader', 'ClusterRoleBinding/custom-metrics:system:auth-delegator', 'ClusterRoleBinding/external-metrics-reader',
      'Deployment/custom-metrics-stackdriver-adapter', 'Namespace/custom-metrics', 'RoleBinding/custom-metrics-auth-reader',
      'Service/custom-metrics-stackdriver-adapter', 'ServiceAccount/custom-metrics-stackdriver-adapter',
    ]);
    const deployment = manifests.find((m) => m.kind === 'Deployment')!;
    expect(deployment.spec.template.spec).toMatchObject({ serviceAccountName: 'custom-metrics-stackdriver-adapter', containers: [expect.objectContaining({ image: CUSTOM_METRICS_ADAPTER_IMAGE })] });
    expect(CUSTOM_METRICS_ADAPTER_IMAGE).toBe('gcr.io/gke-release/custom-metrics-stackdriver-adapter:v0.15.1-gke.0');
    // Everything but the namespace waits for it.
    const all = resourcesOf(json, 'kubernetes_manifest');
    expect(all.filter((m) => m.manifest.kind !== 'Namespace').every((m) => m.depends_on?.[0]?.startsWith('kubernetes_manifest.adapter_namespace_'))).toBe(true);
  });
});
