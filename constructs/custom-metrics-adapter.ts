// CustomMetricsAdapter: the Custom Metrics Stackdriver Adapter, which serves Cloud Monitoring series (Managed
// Prometheus included) to the HPA through custom.metrics.k8s.io / external.metrics.k8s.io. ModelServing's
// targetRequestsPerSecond and targetQueuedRows read their metrics through it; nothing else in GKE provides that API.
// The objects follow GoogleCloudPlatform/k8s-stackdriver custom-metrics-stackdriver-adapter/deploy/production/
// adapter_new_resource_model.yaml (image v0.15.1-gke.0), written as kubernetes_manifest so synth needs no network.
import { Construct } from 'constructs';
import { Manifest } from '@cdktf/provider-kubernetes/lib/manifest';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { MlCluster } from './cluster';
import { projectNumber } from './project-number';

/** The upstream adapter image, pinned by tag (the version the upstream manifest names). */
export const CUSTOM_METRICS_ADAPTER_IMAGE = 'gcr.io/gke-release/custom-metrics-stackdriver-adapter:v0.15.1-gke.0';
const NAMESPACE = 'custom-metrics';
const NAME = 'custom-metrics-stackdriver-adapter';

export interface CustomMetricsAdapterProps {
  /** The cluster it runs in; its project's Cloud Monitoring is read. */
  readonly cluster: MlCluster;
}

/**
 * Install once per cluster (MlPlatform's workloads stack does when a serving entry scales on a custom metric).
 * Construct ids: `project` (data source), `monitoring-viewer`, and one `kubernetes_manifest` per upstream object.
 */
export class CustomMetricsAdapter extends Construct {
  /** The Deployment running the adapter. */
  readonly deployment: Manifest;

  constructor(scope: Construct, id: string, props: CustomMetricsAdapterProps) {
    super(scope, id);
    const { project, workloadPool } = props.cluster;
    // Workload Identity without a Google service account: the adapter's Kubernetes service account itself reads metrics.
    new ProjectIamMember(this, 'monitoring-viewer', {
      project,
      role: 'roles/monitoring.viewer',
      member: `principal://iam.googleapis.com/projects/${projectNumber(this, project)}/locations/global/workloadIdentityPools/${workloadPool}/subject/ns/${NAMESPACE}/sa/${NAME}`,
    });

    const namespace = new Manifest(this, 'namespace', { manifest: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } } });
    // kubernetes_manifest needs literal names at plan time; objects in the namespace wait for it through dependsOn.
    const manifest = (cid: string, body: { [k: string]: unknown }) => new Manifest(this, cid, { manifest: body, dependsOn: [namespace] });
    const adapterAccount = [{ kind: 'ServiceAccount', name: NAME, namespace: NAMESPACE }];
    const rbac = 'rbac.authorization.k8s.io';
    const labels = { run: NAME, 'k8s-app': NAME };

    manifest('service-account', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: NAME, namespace: NAMESPACE } });
    manifest('auth-delegator', {
      apiVersion: `${rbac}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'custom-metrics:system:auth-delegator' },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'system:auth-delegator' }, subjects: adapterAccount,
    });
    manifest('auth-reader', {
      apiVersion: `${rbac}/v1`, kind: 'RoleBinding', metadata: { name: 'custom-metrics-auth-reader', namespace: 'kube-system' },
      roleRef: { apiGroup: rbac, kind: 'Role', name: 'extension-apiserver-authentication-reader' }, subjects: adapterAccount,
    });
    manifest('resource-reader-role', {
      apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name: 'custom-metrics-resource-reader' },
      rules: [{ apiGroups: [''], resources: ['pods', 'nodes', 'nodes/stats'], verbs: ['get', 'list', 'watch'] }],
    });
    manifest('resource-reader', {
      apiVersion: `${rbac}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'custom-metrics-resource-reader' },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'custom-metrics-resource-reader' }, subjects: adapterAccount,
    });
    this.deployment = manifest('deployment', {
      apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: NAME, namespace: NAMESPACE, labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels: { ...labels, 'kubernetes.io/cluster-service': 'true' } },
          spec: {
            serviceAccountName: NAME,
            containers: [{
              name: `pod-${NAME}`,
              image: CUSTOM_METRICS_ADAPTER_IMAGE,
              imagePullPolicy: 'Always',
              command: ['/adapter', '--use-new-resource-model=true', '--fallback-for-container-metrics=true'],
              resources: { limits: { cpu: '250m', memory: '400Mi' }, requests: { cpu: '250m', memory: '400Mi' } },
            }],
          },
        },
      },
    });
    manifest('service', {
      apiVersion: 'v1', kind: 'Service',
      metadata: { name: NAME, namespace: NAMESPACE, labels: { ...labels, 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'Adapter' } },
      spec: { ports: [{ port: 443, protocol: 'TCP', targetPort: 443 }], selector: labels, type: 'ClusterIP' },
    });
    for (const [group, version, priority] of [['custom.metrics.k8s.io', 'v1beta1', 100], ['custom.metrics.k8s.io', 'v1beta2', 200], ['external.metrics.k8s.io', 'v1beta1', 100]] as const) {
      manifest(`api-${version}-${group.split('.')[0]}`, {
        apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: `${version}.${group}` },
        // As upstream: the adapter serves a self-signed certificate.
        spec: { insecureSkipTLSVerify: true, group, groupPriorityMinimum: 100, versionPriority: priority, service: { name: NAME, namespace: NAMESPACE }, version },
      });
    }
    manifest('external-metrics-reader-role', {
      apiVersion: `${rbac}/v1`, kind: 'ClusterRole', metadata: { name: 'external-metrics-reader' },
      rules: [{ apiGroups: ['external.metrics.k8s.io'], resources: ['*'], verbs: ['list', 'get', 'watch'] }],
    });
    manifest('external-metrics-reader', {
      apiVersion: `${rbac}/v1`, kind: 'ClusterRoleBinding', metadata: { name: 'external-metrics-reader' },
      roleRef: { apiGroup: rbac, kind: 'ClusterRole', name: 'external-metrics-reader' },
      subjects: [{ kind: 'ServiceAccount', name: 'horizontal-pod-autoscaler', namespace: 'kube-system' }],
    });
  }
}
