// TrainingScheduler: JobSet and Kueue from pinned upstream charts; every Kueue object it synthesizes validates against
// Kueue's own CRD schema (../shared/reference/kueue); flavors carry the pools' labels, taints and tolerations; quotas
// equal the pools' maxima (nodes x per-node GPUs/chips, vCPUs, memory); queued-provisioning pools get the
// ProvisioningRequest admission check; the machine catalogue covers every machine type a pool can create.
import { TerraformStack } from 'cdktf';
import { MlCluster } from '../../constructs/cluster';
import { GpuNodePool } from '../../constructs/gpu-node-pool';
import { TpuNodePool } from '../../constructs/tpu-node-pool';
import { WorkloadNamespace } from '../../constructs/workload-namespace';
import { JOBSET_CHART_REPOSITORY, JOBSET_CHART_VERSION, KUEUE_CHART_REPOSITORY, KUEUE_CHART_VERSION, TrainingScheduler, TrainingSchedulerProps } from '../../constructs/training-scheduler';
import { acceleratorMachineTypes, machineShape } from '../../constructs/machine-shapes';
import { PolicyPack } from '../../constructs/policy/policy-pack';
import { crdErrors, loadCrdValidators, referenceDir } from '../support/crd-schema';
import { Json, errorOf, resourcesOf, synthJson, workloadBase } from './helpers';

const KUEUE = loadCrdValidators(referenceDir('kueue'));

interface Setup { stack: TerraformStack; cluster: MlCluster; gpu: GpuNodePool[]; tpu: TpuNodePool[]; namespace: WorkloadNamespace; runnerSa: string }

/** The workload base (with its L4 pool: g2-standard-24 = 2 L4, max 2 nodes), a queued H100 pool and a v5e 2x4 multi-host pool of two slices. */
function setup(): Setup {
  const base = workloadBase();
  const h100 = new GpuNodePool(base.stack, 'h100-queued', {
    cluster: base.cluster, accelerator: 'nvidia-h100-80gb', machineType: 'a3-highgpu-8g', zones: ['us-central1-a', 'us-central1-c'], maxNodes: 4, queuedProvisioning: true,
  });
  const v5e = new TpuNodePool(base.stack, 'v5e', { cluster: base.cluster, version: 'v5e', topology: '4x4', zone: 'us-central1-a', scaleToZero: true });
  const namespace = new WorkloadNamespace(base.stack, 'namespace', { identities: base.identities.all });
  return { stack: base.stack, cluster: base.cluster, gpu: [base.gpuPool, h100], tpu: [v5e], namespace, runnerSa: base.identities.identity('pipeline-runner').kubernetesServiceAccount };
}

function scheduler(s: Setup, props: Partial<TrainingSchedulerProps> = {}): TrainingScheduler {
  return new TrainingScheduler(s.stack, 'training', { gpuPools: s.gpu, tpuPools: s.tpu, workloadNamespace: s.namespace, runnerServiceAccount: s.runnerSa, ...props });
}

function kueueManifests(json: Json): Json[] {
  return resourcesOf(json, 'kubernetes_manifest').map((r) => r.manifest).filter((m) => String(m.apiVersion).startsWith('kueue.x-k8s.io/'));
}
const byKind = (objects: Json[], kind: string) => objects.filter((o) => o.kind === kind);

describe('TrainingScheduler', () => {
  test('installs JobSet, then Kueue, from the upstream OCI charts at pinned versions', () => {
    const s = setup();
    scheduler(s);
    const releases = resourcesOf(synthJson(s.stack), 'helm_release');
    expect(releases.map((r) => [r.name, r.repository, r.chart, r.version, r.namespace])).toEqual([
      ['jobset', JOBSET_CHART_REPOSITORY, 'jobset', JOBSET_CHART_VERSION, 'jobset-system'],
      ['kueue', KUEUE_CHART_REPOSITORY, 'kueue', KUEUE_CHART_VERSION, 'kueue-system'],
    ]);
    expect(releases[1].depends_on).toEqual([expect.stringMatching(/^helm_release\.training_jobset_/)]);
  });

  test('every Kueue object validates against its CRD schema (v1beta2)', () => {
    const s = setup();
    scheduler(s);
    const objects = kueueManifests(synthJson(s.stack));
    expect(objects.map((o) => o.kind).sort()).toEqual(['AdmissionCheck', 'ClusterQueue', 'LocalQueue', 'ProvisioningRequestConfig', 'ResourceFlavor', 'ResourceFlavor', 'ResourceFlavor']);
    for (const o of objects) expect({ object: `${o.kind}/${o.metadata.name}`, errors: crdErrors(KUEUE, o) }).toEqual({ object: `${o.kind}/${o.metadata.name}`, errors: [] });
  });

  test('the schema check catches a wrong object (so the test above can fail)', () => {
    const s = setup();
    scheduler(s);
    const cq = byKind(kueueManifests(synthJson(s.stack)), 'ClusterQueue')[0];
    // An unknown queueing strategy and a quota that is not a Kubernetes quantity.
    const broken = { ...cq, spec: { ...cq.spec, queueingStrategy: 'Fifo', resourceGroups: [{ coveredResources: ['cpu'], flavors: [{ name: 'l4', resources: [{ name: 'cpu', nominalQuota: 'lots' }] }] }] } };
    expect(crdErrors(KUEUE, broken).join('\n')).toMatch(/queueingStrategy: must be equal to one of the allowed values[\s\S]*nominalQuota: must match pattern/);
    expect(crdErrors(KUEUE, { ...cq, apiVersion: 'kueue.x-k8s.io/v1' })[0]).toMatch(/^no CRD schema for kueue\.x-k8s\.io\/v1\/ClusterQueue/);
  });

  test('a ResourceFlavor per pool with the pool node labels, taints and tolerations', () => {
    const s = setup();
    scheduler(s);
    const flavors = byKind(kueueManifests(synthJson(s.stack)), 'ResourceFlavor');
    expect(Object.fromEntries(flavors.map((f) => [f.metadata.name, f.spec]))).toEqual({
      l4: {
        nodeLabels: { 'cloud.google.com/gke-accelerator': 'nvidia-l4', 'cloud.google.com/gke-nodepool': 'l4' },
        nodeTaints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
      'h100-queued': {
        nodeLabels: { 'cloud.google.com/gke-accelerator': 'nvidia-h100-80gb', 'cloud.google.com/gke-nodepool': 'h100-queued' },
        nodeTaints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }],
        tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
      v5e: {
        nodeLabels: { 'cloud.google.com/gke-tpu-accelerator': 'tpu-v5-lite-podslice', 'cloud.google.com/gke-tpu-topology': '4x4', 'ml-platform/pool': 'v5e' },
        nodeTaints: [{ key: 'google.com/tpu', value: 'present', effect: 'NoSchedule' }],
        tolerations: [{ key: 'google.com/tpu', operator: 'Exists', effect: 'NoSchedule' }],
      },
    });
  });

  test('ClusterQueue quotas equal the pools maxima; only the queued pool gets the ProvisioningRequest check', () => {
    const s = setup();
    const t = scheduler(s);
    const objects = kueueManifests(synthJson(s.stack));
    const cq = byKind(objects, 'ClusterQueue')[0];
    expect(cq.metadata.name).toBe('training');
    expect(cq.spec.namespaceSelector).toEqual({ matchLabels: { 'kubernetes.io/metadata.name': 'ml-platform' } });
    expect(cq.spec.resourceGroups).toHaveLength(1);
    expect(cq.spec.resourceGroups[0].coveredResources).toEqual(['cpu', 'memory', 'google.com/tpu', 'nvidia.com/gpu']);
    const quota = Object.fromEntries(cq.spec.resourceGroups[0].flavors.map((f: Json) => [f.name, Object.fromEntries(f.resources.map((r: Json) => [r.name, r.nominalQuota]))]));
    expect(quota).toEqual({
      // 2 x g2-standard-24 (24 vCPU, 96 GiB, 2 L4)
      l4: { cpu: '48', memory: `${2 * 96 * 1024}Mi`, 'nvidia.com/gpu': '4', 'google.com/tpu': '0' },
      // 4 x a3-highgpu-8g (208 vCPU, 1872 GiB, 8 H100)
      'h100-queued': { cpu: '832', memory: `${4 * 1872 * 1024}Mi`, 'nvidia.com/gpu': '32', 'google.com/tpu': '0' },
      // one v5e 4x4 slice: 4 hosts of ct5lp-hightpu-4t (112 vCPU, 192 GiB, 4 chips)
      v5e: { cpu: '448', memory: `${4 * 192 * 1024}Mi`, 'nvidia.com/gpu': '0', 'google.com/tpu': '16' },
    });
    expect(cq.spec.admissionChecksStrategy).toEqual({ admissionChecks: [{ name: 'dws-provisioning', onFlavors: ['h100-queued'] }] });
    expect(byKind(objects, 'AdmissionCheck')[0].spec).toEqual({
      controllerName: 'kueue.x-k8s.io/provisioning-request',
      parameters: { apiGroup: 'kueue.x-k8s.io', kind: 'ProvisioningRequestConfig', name: 'dws-provisioning' },
    });
    expect(byKind(objects, 'ProvisioningRequestConfig')[0].spec).toEqual({ provisioningClassName: 'queued-provisioning.gke.io', managedResources: ['nvidia.com/gpu'] });
    expect(byKind(objects, 'LocalQueue')[0]).toMatchObject({ metadata: { name: 'training', namespace: 'ml-platform' }, spec: { clusterQueue: 'training' } });
    expect(t.queueName).toBe('training');
  });

  test('the pools expose what the scheduler reads (scheduling), and a multislice pool counts every slice', () => {
    const s = setup();
    expect(s.gpu[1].scheduling).toEqual({
      nodeLabels: { 'cloud.google.com/gke-accelerator': 'nvidia-h100-80gb', 'cloud.google.com/gke-nodepool': 'h100-queued' },
      taints: [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' }],
      tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
      machineType: 'a3-highgpu-8g', maxNodes: 4, nodeUnit: 1, accelerator: { resource: 'nvidia.com/gpu', perNode: 8, shared: false }, queuedProvisioning: true,
    });
    const multi = new TpuNodePool(s.stack, 'v5e-multi', { cluster: s.cluster, version: 'v5e', topology: '4x4', zone: 'us-central1-a', scaleToZero: true, slices: 3 });
    expect(multi.scheduling).toMatchObject({ machineType: 'ct5lp-hightpu-4t', maxNodes: 12, nodeUnit: 4, accelerator: { resource: 'google.com/tpu', perNode: 4, shared: false } });
    const t = scheduler(s, { gpuPools: [], tpuPools: [multi], nodeQuota: { 'v5e-multi': 8 } });
    expect(t.pools.map((p) => [p.name, p.nodes])).toEqual([['v5e-multi', 8]]);
    const cq = byKind(kueueManifests(synthJson(s.stack)), 'ClusterQueue')[0];
    expect(cq.spec.resourceGroups[0].flavors[0].resources.find((r: Json) => r.name === 'google.com/tpu').nominalQuota).toBe('32');
  });

  test('without queued pools there is no admission check; nodeQuota lowers a quota and is checked', () => {
    const s = setup();
    scheduler(s, { gpuPools: [s.gpu[0]], nodeQuota: { l4: 1 } });
    const objects = kueueManifests(synthJson(s.stack));
    expect(objects.map((o) => o.kind)).not.toContain('AdmissionCheck');
    const cq = byKind(objects, 'ClusterQueue')[0];
    expect(cq.spec.admissionChecksStrategy).toBeUndefined();
    expect(cq.spec.resourceGroups[0].flavors[0]).toEqual({ name: 'l4', resources: [
      { name: 'cpu', nominalQuota: '24' }, { name: 'memory', nominalQuota: `${96 * 1024}Mi` }, { name: 'google.com/tpu', nominalQuota: '0' }, { name: 'nvidia.com/gpu', nominalQuota: '2' },
    ] });
    for (const o of objects) expect(crdErrors(KUEUE, o)).toEqual([]);

    expect(errorOf(() => scheduler(setup(), { nodeQuota: { l4: 3 } }))).toBe(
      "TrainingScheduler 'test/training': nodeQuota.l4 is 3; use an integer between 1 and the pool's maximum 2.");
    expect(errorOf(() => scheduler(setup(), { nodeQuota: { v5e: 2 } }))).toBe(
      "TrainingScheduler 'test/training': nodeQuota.v5e is 2; use a multiple of 4 (whole slices) between 4 and the pool's maximum 4.");
    expect(errorOf(() => scheduler(setup(), { nodeQuota: { a100: 1 } }))).toBe(
      "TrainingScheduler 'test/training': nodeQuota names a100, which is not among the training pools (l4, h100-queued, v5e).");
  });

  test('refuses shared GPUs, no pools, a pool twice, and chart version ranges', () => {
    const s = setup();
    const shared = new GpuNodePool(s.stack, 'l4-shared', {
      cluster: s.cluster, accelerator: 'nvidia-l4', machineType: 'g2-standard-8', zones: ['us-central1-a'], maxNodes: 2, gpuSharing: 'TIME_SHARING', maxSharedClientsPerGpu: 2,
    });
    expect(errorOf(() => scheduler(s, { gpuPools: [shared], tpuPools: [] }))).toBe(
      "TrainingScheduler 'test/training': pool l4-shared shares or partitions its GPUs (gpuSharing / gpuPartitionSize), so whole-GPU training quota cannot be derived from it; leave it out of training.pools.");
    expect(errorOf(() => scheduler(setup(), { gpuPools: [], tpuPools: [] }))).toBe(
      "TrainingScheduler 'test/training': no GPU or TPU pools to schedule; list at least one pool (distributed steps run on accelerator pools).");
    const again = setup();
    expect(errorOf(() => scheduler(again, { gpuPools: [again.gpu[0], again.gpu[0]] }))).toBe(
      "TrainingScheduler 'test/training': pool l4 is listed twice; each pool is one ResourceFlavor.");
    expect(errorOf(() => scheduler(setup(), { kueueChartVersion: '0.15.*' }))).toBe(
      "TrainingScheduler 'test/training': kueueChartVersion '0.15.*' must be an exact chart version like 0.15.0 (no ranges: a pinned chart cannot change under a running platform).");
  });

  test('the runner may create and watch JobSets in the pipelines namespace, and nothing else', () => {
    const s = setup();
    scheduler(s);
    const json = synthJson(s.stack);
    const [role] = resourcesOf(json, 'kubernetes_role_v1');
    expect(role.rule).toEqual([
      { api_groups: ['jobset.x-k8s.io'], resources: ['jobsets'], verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'] },
      { api_groups: ['kueue.x-k8s.io'], resources: ['workloads'], verbs: ['get', 'list', 'watch'] },
    ]);
    const [binding] = resourcesOf(json, 'kubernetes_role_binding_v1');
    expect(binding.subject).toEqual([{ kind: 'ServiceAccount', name: s.runnerSa, namespace: 'ml-platform' }]);
  });

  test('the policy pack passes on the scheduler (pinned charts)', () => {
    const s = setup();
    scheduler(s);
    const report = new PolicyPack().evaluate(s.stack);
    expect(report.violations.filter((v) => v.path.startsWith('test/training/'))).toEqual([]);
    expect(report.suppressed.filter((v) => v.path.startsWith('test/training/'))).toEqual([]);
  });
});

describe('machine catalogue', () => {
  test('knows the vCPUs and memory of every machine type a GPU or TPU pool can create', () => {
    const missing = acceleratorMachineTypes().filter((m) => machineShape(m) === undefined);
    expect(missing).toEqual([]);
    expect(machineShape('n1-highmem-8')).toEqual({ vcpus: 8, memoryGib: 52 });
    expect(machineShape('e2-micro')).toBeUndefined();
  });
});
