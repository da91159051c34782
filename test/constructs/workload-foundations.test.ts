// What the workload constructs stand on: grants across stacks land in the depending stack (no cycles), GkeProviders
// from another stack's cluster, WorkloadNamespace's annotated service accounts, ProjectServices, ServiceAccountIdentity
// and the shared validators.
import { TerraformStack, Testing } from 'cdktf';
import { ArtifactStore, ExistingBucket } from '../../constructs/artifact-store';
import { MetadataDatabase } from '../../constructs/metadata-database';
import { ContainerRegistry } from '../../constructs/container-registry';
import { GkeProviders } from '../../constructs/gke-providers';
import { ProjectServices } from '../../constructs/project-services';
import { ServiceAccountIdentity } from '../../constructs/service-account-identity';
import { WorkloadNamespace } from '../../constructs/workload-namespace';
import { WorkloadIdentity } from '../../constructs/workload-identity';
import { escapeTerraformTemplates, isCron, unpinnedImageReason } from '../../constructs/workload-common';
import { MlCluster } from '../../constructs/cluster';
import { MlNetwork } from '../../constructs/network';
import { Json, errorOf, onlyResource, resourcesOf, workloadBase } from './helpers';

/** Two stacks as MlPlatform makes them: `platform` with the data, `workloads` depending on it. */
function twoStacks() {
  const app = Testing.app();
  const platform = new TerraformStack(app, 'platform');
  const workloads = new TerraformStack(app, 'workloads');
  workloads.addDependency(platform);
  const network = new MlNetwork(platform, 'network', { name: 'mlp-x', region: 'us-central1', subnetCidr: '10.0.0.0/20', podsCidr: '10.4.0.0/14', servicesCidr: '10.8.0.0/20', privateServiceAccessCidr: '10.10.0.0/16' });
  const cluster = new MlCluster(platform, 'cluster', { name: 'mlp-x', project: 'acme-x', network, location: 'us-central1', masterIpv4CidrBlock: '172.16.0.0/28', masterAuthorizedNetworks: [{ cidr: '203.0.113.0/24', displayName: 'vpn' }] });
  const store = new ArtifactStore(platform, 'artifacts', { bucketPrefix: 'acme-x', location: 'US' });
  const database = new MetadataDatabase(platform, 'db', { instanceName: 'mlp-x-metadata', project: 'acme-x', network, tier: 'db-custom-2-7680' });
  const registry = new ContainerRegistry(platform, 'registry', { repositoryId: 'images', location: 'us-central1', project: 'acme-x' });
  return { app, platform, workloads, cluster, store, database, registry };
}
/** Synthesizes both stacks the way App.synth does (prepare all, then synthesize), returning their JSON. */
function synthBoth(...stacks: TerraformStack[]): Json[] {
  stacks.forEach((s) => s.prepareStack());
  return stacks.map((s) => JSON.parse(Testing.synth(s)));
}

describe('grants across stacks', () => {
  test('a workloads-stack principal granted on platform resources gets the bindings in the workloads stack, by literal name', () => {
    const { platform, workloads, store, database, registry } = twoStacks();
    const sa = new ServiceAccountIdentity(workloads, 'steps', { accountId: 'mlp-x-steps', project: 'acme-x', displayName: 'steps' });
    store.models.grantWrite(sa);
    store.models.grantWrite(sa); // idempotent
    registry.grantPull(sa);
    database.grantConnect(sa);
    const [p, w] = synthBoth(platform, workloads);
    expect(resourcesOf(p, 'google_storage_bucket_iam_member').map((m) => m.member)).not.toContainEqual(expect.stringContaining('steps'));
    expect(resourcesOf(w, 'google_storage_bucket_iam_member')).toEqual([expect.objectContaining({ bucket: 'acme-x-models', role: 'roles/storage.objectUser' })]);
    expect(onlyResource(w, 'google_artifact_registry_repository_iam_member')).toMatchObject({ repository: 'images', location: 'us-central1', project: 'acme-x', role: 'roles/artifactregistry.reader' });
    expect(onlyResource(w, 'google_sql_user')).toMatchObject({ instance: 'mlp-x-metadata', type: 'CLOUD_IAM_SERVICE_ACCOUNT' });
    expect(resourcesOf(w, 'google_project_iam_member').map((m) => m.role).sort()).toEqual(['roles/cloudsql.client', 'roles/cloudsql.instanceUser']);
    // The platform stack never reads the workloads stack's state.
    expect(p.data?.terraform_remote_state).toBeUndefined();
    expect(workloads.dependencies).toEqual([platform]);
  });

  test('a platform-stack principal granted on a workloads-stack bucket stays with the bucket (the workloads stack already depends on the platform)', () => {
    const { platform, workloads } = twoStacks();
    const runner = new ServiceAccountIdentity(platform, 'runner', { accountId: 'mlp-x-runner', project: 'acme-x', displayName: 'r' });
    ExistingBucket.fromName(workloads, 'landing', 'acme-landing').grantRead(runner);
    const [p, w] = synthBoth(platform, workloads);
    expect(resourcesOf(p, 'google_storage_bucket_iam_member')).not.toContainEqual(expect.objectContaining({ bucket: 'acme-landing' }));
    expect(onlyResource(w, 'google_storage_bucket_iam_member')).toMatchObject({ bucket: 'acme-landing', role: 'roles/storage.objectViewer' });
    expect(platform.dependencies).toEqual([]);
  });
});

describe('GkeProviders', () => {
  test('Kubernetes and Helm providers from the other stack\'s cluster endpoint and CA (remote state) and a client-config token', () => {
    const { platform, workloads, cluster } = twoStacks();
    new GkeProviders(workloads, 'gke', { cluster });
    const [, w] = synthBoth(platform, workloads);
    const k8s = w.provider.kubernetes[0];
    expect(k8s.host).toMatch(/^https:\/\/\$\{data\.terraform_remote_state\.cross-stack-reference-input-platform\.outputs\.cross-stack-output-google_container_clustercluster_[0-9A-F]+endpoint\}$/);
    expect(k8s.cluster_ca_certificate).toMatch(/^\$\{base64decode\(data\.terraform_remote_state\.cross-stack-reference-input-platform\.outputs\.cross-stack-output-.*master_auth0cluster_ca_certificate\)\}$/);
    expect(k8s.token).toMatch(/^\$\{data\.google_client_config\.gke_client-config_[0-9A-F]+\.access_token\}$/);
    expect(w.provider.helm[0].kubernetes).toEqual({ host: k8s.host, cluster_ca_certificate: k8s.cluster_ca_certificate, token: k8s.token });
    expect(k8s.config_path).toBeUndefined();
  });
});

describe('WorkloadNamespace', () => {
  test('the namespace with pod security labels and one KSA per identity, annotated with its Google service account', () => {
    const base = workloadBase();
    new WorkloadNamespace(base.stack, 'namespace', { identities: base.identities.all });
    const json = JSON.parse(Testing.synth(base.stack));
    expect(onlyResource(json, 'kubernetes_namespace_v1').metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'baseline', 'pod-security.kubernetes.io/warn': 'restricted',
    });
    const ksas = resourcesOf(json, 'kubernetes_service_account_v1');
    expect(ksas.map((k) => k.metadata.name).sort()).toEqual(['model-server', 'pipeline-runner', 'trainer', 'transfer']);
    const runner = ksas.find((k) => k.metadata.name === 'pipeline-runner')!;
    expect(runner.metadata.annotations['iam.gke.io/gcp-service-account']).toMatch(/^\$\{google_service_account\.identities_pipeline-runner_service-account_[0-9A-F]+\.email\}$/);
    expect(runner.automount_service_account_token).toBe(true);
    expect(ksas.find((k) => k.metadata.name === 'model-server')!.automount_service_account_token).toBe(false);
  });

  test('refuses identities of several namespaces', () => {
    const base = workloadBase();
    const other = new WorkloadIdentity(base.stack, 'other', { cluster: base.cluster, namespace: 'batch', accountPrefix: 'mlp-b', roles: ['trainer'] });
    expect(errorOf(() => new WorkloadNamespace(base.stack, 'ns', { identities: [...base.identities.all, ...other.all] }))).toBe(
      "WorkloadNamespace 'test/ns': identities live in several namespaces (ml-platform, batch); create one WorkloadNamespace per namespace.");
  });
});

describe('ProjectServices and ServiceAccountIdentity', () => {
  test('an API is enabled once per stack and never disabled on destroy; identities refuse basic roles', () => {
    const base = workloadBase();
    const a = ProjectServices.of(base.stack).enable('aiplatform.googleapis.com', 'acme-ml-test');
    const b = ProjectServices.of(base.cluster).enable('aiplatform.googleapis.com', 'acme-ml-test');
    expect(a).toBe(b);
    const json = JSON.parse(Testing.synth(base.stack));
    expect(onlyResource(json, 'google_project_service')).toMatchObject({ service: 'aiplatform.googleapis.com', disable_on_destroy: false });
    expect(errorOf(() => new ServiceAccountIdentity(base.stack, 'sa', { accountId: 'mlp-test-x', project: 'acme-ml-test', displayName: 'x', projectRoles: ['roles/editor'] }))).toBe(
      "ServiceAccountIdentity 'test/sa': project role 'roles/editor' is not a predefined role (basic roles owner/editor/viewer are refused); grant the specific roles the workload needs.");
  });

  test('validators: pinned images, cron, template escapes', () => {
    expect(unpinnedImageReason('r/runtime:0.1.0')).toBeUndefined();
    expect(unpinnedImageReason(`r/runtime@sha256:${'a'.repeat(64)}`)).toBeUndefined();
    expect(unpinnedImageReason('localhost:5000/runtime')).toBe("image 'localhost:5000/runtime' has no tag (it means :latest)");
    expect(unpinnedImageReason('runtime:latest')).toBe("image 'runtime:latest' uses the tag 'latest'");
    expect([isCron('0 3 * * *'), isCron('*/5 * * * 1-5'), isCron('@daily'), isCron('0 3 * *')]).toEqual([true, true, false, false]);
    expect(escapeTerraformTemplates({ a: ['${x}', '%{if}'], b: 1 })).toEqual({ a: ['$${x}', '%%{if}'], b: 1 });
  });
});
