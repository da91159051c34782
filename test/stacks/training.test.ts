// The environments' training scheduler (workloads.training): JobSet and Kueue installed in every <env>-workloads stack,
// every Kueue object valid against Kueue's CRD schemas, quotas equal to the configured pools' maxima, prod's queued
// H100 pool behind the ProvisioningRequest admission check, the policy pack passing, and config errors naming the field.
import { ENVIRONMENT_NAMES, environment, rawEnvironment } from '../../stacks/environments';
import { EnvironmentConfigError, parseEnvironmentConfig } from '../../stacks/config';
import { crdErrors, loadCrdValidators, referenceDir } from '../support/crd-schema';
import { Json, all, synthNamed } from './helpers';

/* eslint-disable @typescript-eslint/no-explicit-any */
const KUEUE = loadCrdValidators(referenceDir('kueue'));
const kueueObjects = (json: Json) => all(json, 'kubernetes_manifest').map((m) => m.manifest).filter((m) => String(m.apiVersion).startsWith('kueue.x-k8s.io/'));
const clusterQueue = (json: Json) => kueueObjects(json).find((o) => o.kind === 'ClusterQueue');
const quotas = (json: Json) => Object.fromEntries(clusterQueue(json).spec.resourceGroups[0].flavors.map((f: Json) => [f.name, Object.fromEntries(f.resources.map((r: Json) => [r.name, r.nominalQuota]))]));
const GiB = (n: number) => `${n * 1024}Mi`;

describe.each(ENVIRONMENT_NAMES)('%s-workloads training scheduler', (env) => {
  test('installs JobSet and Kueue, and every Kueue object validates against its CRD schema', () => {
    const json = synthNamed(env).workloadsJson;
    expect(all(json, 'helm_release').map((r) => r.chart)).toEqual(expect.arrayContaining(['jobset', 'kueue']));
    const objects = kueueObjects(json);
    expect(objects.length).toBeGreaterThanOrEqual(3);
    for (const o of objects) expect({ object: `${o.kind}/${o.metadata.name}`, errors: crdErrors(KUEUE, o) }).toEqual({ object: `${o.kind}/${o.metadata.name}`, errors: [] });
    const local = objects.find((o) => o.kind === 'LocalQueue');
    expect(local.metadata).toMatchObject({ name: 'training', namespace: environment(env).kubernetesNamespace });
    expect(json.output['training-queue'].value).toBe('training');
  });

  test('the policy pack passes on the training resources without suppressions', () => {
    const stack = synthNamed(env).platform.workloads!;
    const report = stack.policy.reports.get(`${env}-workloads`)!;
    const mine = (f: { path: string }) => f.path.startsWith(`${env}/${env}-workloads/training/`);
    expect(report.violations.filter(mine)).toEqual([]);
    expect(report.suppressed.filter(mine)).toEqual([]);
  });
});

describe('quotas and pools per environment', () => {
  test('prod: the queued H100 pool and the v5p slice at their maxima; the H100 flavor needs the ProvisioningRequest check; shared L4 serving stays out', () => {
    const cfg = environment('prod');
    expect(cfg.gpuPools.find((p) => p.name === 'h100-queued')).toMatchObject({ machineType: 'a3-highgpu-8g', maxNodes: 4, queuedProvisioning: true });
    expect(cfg.tpuPools.find((p) => p.name === 'v5p-2x2x2')).toMatchObject({ version: 'v5p', topology: '2x2x2' });
    const json = synthNamed('prod').workloadsJson;
    expect(quotas(json)).toEqual({
      // 4 nodes x a3-highgpu-8g (8 H100, 208 vCPU, 1872 GiB)
      'h100-queued': { cpu: '832', memory: GiB(4 * 1872), 'nvidia.com/gpu': '32', 'google.com/tpu': '0' },
      // a v5p 2x2x2 slice: 8 chips on 2 hosts of ct5p-hightpu-4t (208 vCPU, 448 GiB)
      'v5p-2x2x2': { cpu: '416', memory: GiB(2 * 448), 'nvidia.com/gpu': '0', 'google.com/tpu': '8' },
    });
    expect(clusterQueue(json).spec.admissionChecksStrategy).toEqual({ admissionChecks: [{ name: 'dws-provisioning', onFlavors: ['h100-queued'] }] });
    const objects = kueueObjects(json);
    expect(objects.find((o) => o.kind === 'ProvisioningRequestConfig').spec).toEqual({ provisioningClassName: 'queued-provisioning.gke.io', managedResources: ['nvidia.com/gpu'] });
    expect(objects.filter((o) => o.kind === 'ResourceFlavor').map((f) => f.metadata.name)).toEqual(['h100-queued', 'v5p-2x2x2']);
  });

  test('staging: by default every unshared GPU pool and the TPU pool; flex-start is not queued, so no admission check', () => {
    const json = synthNamed('staging').workloadsJson;
    expect(quotas(json)).toEqual({
      // 4 x g2-standard-24 (2 L4, 24 vCPU, 96 GiB)
      'l4-spot': { cpu: '96', memory: GiB(4 * 96), 'nvidia.com/gpu': '8', 'google.com/tpu': '0' },
      // 4 x a2-highgpu-1g (1 A100, 12 vCPU, 85 GiB)
      'a100-flex': { cpu: '48', memory: GiB(4 * 85), 'nvidia.com/gpu': '4', 'google.com/tpu': '0' },
      // a single-host v5e 2x4 slice: 1 x ct5lp-hightpu-8t (8 chips, 224 vCPU, 384 GiB)
      'v5e-2x4': { cpu: '224', memory: GiB(384), 'nvidia.com/gpu': '0', 'google.com/tpu': '8' },
    });
    expect(clusterQueue(json).spec.admissionChecksStrategy).toBeUndefined();
    expect(kueueObjects(json).map((o) => o.kind)).not.toContain('AdmissionCheck');
  });

  test('a training pool that is not a GPU or TPU pool fails with one line naming the field', () => {
    const cfg = rawEnvironment('prod') as any;
    cfg.workloads.training.pools = ['h100-queued', 'l4'];
    expect(() => parseEnvironmentConfig(cfg)).toThrow(EnvironmentConfigError);
    expect(() => parseEnvironmentConfig(cfg)).toThrow(
      "Invalid environment config 'prod': workloads.training.pools[1]: is not one of gpuPools or tpuPools (l4-serving, h100-queued, v5p-2x2x2)");
  });
});
