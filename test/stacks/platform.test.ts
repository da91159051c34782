// <env>-platform stacks: JSON snapshots, policy pack passes, backend prefix, acceptance properties, offline synth of all.
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { buildPlatformApp } from '../../stacks/app';
import { ENVIRONMENT_NAMES, environment } from '../../stacks/environments';
import { all, synthNamed } from './helpers';
import { writeCheckovConfigs } from '../../stacks/checkov-configs';
import { parse as parseYaml } from 'yaml';
import { execFileSync } from 'child_process';

const synth = (env: (typeof ENVIRONMENT_NAMES)[number]) => {
  const s = synthNamed(env);
  return { json: s.platformJson, stack: s.platform.platform };
};

describe.each(ENVIRONMENT_NAMES)('%s-platform', (env) => {
  test('synthesized JSON matches the snapshot', () => {
    expect(synth(env).json).toMatchSnapshot();
  });

  test('the policy pack passes (only the documented suppressions: access-log sink, ENCRYPTED_ONLY database on POSTGRES_16, Google-managed registry keys, RBAC without Google Groups, DWS pools without auto-repair, prod raw data under a retention policy)', () => {
    const report = synth(env).stack.policy.reports.get(`${env}-platform`)!;
    expect(report.violations).toEqual([]);
    expect(report.resourcesChecked).toBeGreaterThan(40);
    const p = `${env}/${env}-platform`;
    const expected = [
      `CKV_GCP_62 ${p}/artifacts/access-logs/bucket`, `CKV_GCP_6 ${p}/metadata-db/instance`, `CKV_GCP_79 ${p}/metadata-db/instance`,
      `CKV_GCP_65 ${p}/cluster/cluster`,
      `CKV_GCP_84 ${p}/registry/repository`, `CKV_GCP_84 ${p}/registry/cache-repository`,
      ...environment(env).gpuPools.filter((g) => g.flexStart || g.queuedProvisioning).map((g) => `CKV_GCP_9 ${p}/${g.name}/pool`),
    ];
    if (env === 'prod') expected.push('CKV_GCP_78 prod/prod-platform/artifacts/raw-data/bucket');
    expect(report.suppressed.map((s) => `${s.ruleId} ${s.path}`).sort()).toEqual(expected.sort());
    expect(expected.some((e) => e.startsWith('CKV_GCP_9 '))).toBe(env !== 'dev');
  });

  test('GCS backend prefix includes env and stack', () => {
    expect(synth(env).json.terraform.backend.gcs).toEqual({ bucket: 'acme-ml-tfstate', prefix: `platform/${env}/${env}-platform` });
  });

  test('GPU pools have guest accelerators, driver config and the GPU taint', () => {
    const gpuPools = all(synth(env).json, 'google_container_node_pool').filter((p) => p.node_config.guest_accelerator);
    expect(gpuPools.length).toBeGreaterThan(0);
    for (const p of gpuPools) {
      expect(p.node_config.guest_accelerator[0].gpu_driver_installation_config.gpu_driver_version).toMatch(/^(DEFAULT|LATEST)$/);
      expect(p.node_config.taint).toContainEqual({ key: 'nvidia.com/gpu', value: 'present', effect: 'NO_SCHEDULE' });
    }
  });

  test('Cloud SQL has no public IP, backups, PITR and the IAM auth flag', () => {
    const db = all(synth(env).json, 'google_sql_database_instance')[0];
    expect(db.settings.ip_configuration.ipv4_enabled).toBe(false);
    expect(db.settings.backup_configuration).toMatchObject({ enabled: true, point_in_time_recovery_enabled: true });
    expect(db.settings.database_flags).toContainEqual({ name: 'cloudsql.iam_authentication', value: 'on' });
  });

  test('buckets enforce public access prevention and uniform access; no basic roles anywhere', () => {
    const { json } = synth(env);
    for (const b of all(json, 'google_storage_bucket')) expect(b).toMatchObject({ public_access_prevention: 'enforced', uniform_bucket_level_access: true });
    const roles = Object.keys(json.resource).filter((t) => t.endsWith('_iam_member')).flatMap((t) => all(json, t).map((m) => m.role));
    expect(roles.length).toBeGreaterThan(10);
    expect(roles.filter((r) => ['roles/owner', 'roles/editor', 'roles/viewer'].includes(r))).toEqual([]);
  });

  test('outputs what the workloads stack reads (cross-stack) and nothing reads the workloads stack', () => {
    const { json } = synth(env);
    const outputs = Object.keys(json.output);
    expect(outputs).toEqual(expect.arrayContaining([
      expect.stringMatching(/^cross-stack-output-google_container_cluster.*endpoint$/),
      expect.stringMatching(/^cross-stack-output-google_container_cluster.*cluster_ca_certificate$/),
    ]));
    expect(json.data?.terraform_remote_state).toBeUndefined();
  });
});

test('dev is zonal with a spot GPU pool from 0 and a small database; prod is regional, HA, deletion-protected', () => {
  const dev = synth('dev').json;
  const prod = synth('prod').json;
  expect(all(dev, 'google_container_cluster')[0]).toMatchObject({ location: 'us-central1-a', deletion_protection: false });
  expect(all(dev, 'google_container_node_pool').find((p) => p.name === 'l4-spot')).toMatchObject({ autoscaling: { total_min_node_count: 0 }, node_config: { spot: true } });
  expect(all(dev, 'google_sql_database_instance')[0]).toMatchObject({ deletion_protection: false, settings: { tier: 'db-g1-small', availability_type: 'ZONAL' } });
  expect(all(prod, 'google_container_cluster')[0]).toMatchObject({ location: 'us-central1', deletion_protection: true });
  expect(all(prod, 'google_sql_database_instance')[0]).toMatchObject({
    deletion_protection: true,
    settings: { availability_type: 'REGIONAL', deletion_protection_enabled: true, backup_configuration: { point_in_time_recovery_enabled: true } },
  });
});

test('staging flex-start A100 pool consumes no reservation (flex-start requires NO_RESERVATION)', () => {
  expect(all(synth('staging').json, 'google_container_node_pool').find((p) => p.name === 'a100-flex')!.node_config).toMatchObject({
    flex_start: true, reservation_affinity: { consume_reservation_type: 'NO_RESERVATION' },
  });
});

test('a TPU pool with COMPACT placement and topology is synthesized (staging and prod)', () => {
  expect(all(synth('staging').json, 'google_container_node_pool').find((p) => p.name === 'v5e-2x4')!.placement_policy).toEqual({ type: 'COMPACT', tpu_topology: '2x4' });
  expect(all(synth('prod').json, 'google_container_node_pool').find((p) => p.name === 'v5p-2x2x2')).toMatchObject({
    placement_policy: { type: 'COMPACT', tpu_topology: '2x2x2' }, node_config: { machine_type: 'ct5p-hightpu-4t' }, autoscaling: { max_node_count: 2 },
  });
});

test('the app synthesizes all six stacks offline into <outdir>/stacks/<env>-{platform,workloads}', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-synth-'));
  try {
    const { app, stacks, workloads, notes } = buildPlatformApp({ outdir });
    app.synth();
    expect(stacks.map((s) => s.node.id)).toEqual(['dev-platform', 'staging-platform', 'prod-platform']);
    expect(workloads.map((s) => s.node.id)).toEqual(['dev-workloads', 'staging-workloads', 'prod-workloads']);
    const names = ['dev', 'staging', 'prod'].flatMap((e) => [`${e}-platform`, `${e}-workloads`]).sort();
    expect(fs.readdirSync(path.join(outdir, 'stacks')).sort()).toEqual(names);
    const manifest = JSON.parse(fs.readFileSync(path.join(outdir, 'manifest.json'), 'utf8'));
    expect(Object.keys(manifest.stacks).sort()).toEqual(names);
    expect(manifest.stacks['prod-workloads'].dependencies).toEqual(['prod/prod-platform']);
    const prod = JSON.parse(fs.readFileSync(path.join(outdir, 'stacks', 'prod-workloads', 'cdk.tf.json'), 'utf8'));
    expect(prod.terraform.backend.gcs.prefix).toBe('platform/prod/prod-workloads');
    expect(prod.data.terraform_remote_state['cross-stack-reference-input-prod--prod-platform'].config).toEqual({ bucket: 'acme-ml-tfstate', prefix: 'platform/prod/prod-platform' });
    for (const s of [...stacks, ...workloads]) expect(s.policy.reports.get(s.node.id)!.violations).toEqual([]);
    expect(notes).toEqual([expect.stringContaining('no compiled pipelines given')]);
    // Each stack's Checkov config skips exactly the Checkov ids its policy report suppressed.
    const written = writeCheckovConfigs(outdir, [...stacks, ...workloads]);
    expect(written.map((f) => path.relative(outdir, f)).sort()).toEqual(names.map((n) => path.join('stacks', n, '.checkov.yaml')));
    for (const s of [...stacks, ...workloads]) {
      const config = parseYaml(fs.readFileSync(path.join(outdir, 'stacks', s.node.id, '.checkov.yaml'), 'utf8'));
      const suppressed = new Set(s.policy.reports.get(s.node.id)!.suppressed.map((x) => x.ruleId).filter((id) => id.startsWith('CKV')));
      expect(new Set(config['skip-check'])).toEqual(suppressed);
      expect(config.framework).toEqual(['terraform_json']);
    }
    expect(parseYaml(fs.readFileSync(path.join(outdir, 'stacks', 'prod-platform', '.checkov.yaml'), 'utf8'))['skip-check']).toEqual(
      ['CKV_GCP_6', 'CKV_GCP_9', 'CKV_GCP_62', 'CKV_GCP_65', 'CKV_GCP_78', 'CKV_GCP_79', 'CKV_GCP_84']);
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});

test('npm run synth (stacks/main.ts) writes .checkov.yaml beside every stack\'s cdk.tf.json', () => {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlp-main-'));
  try {
    const out = execFileSync(process.execPath, ['-r', 'sucrase/register/ts', path.join(__dirname, '..', '..', 'stacks', 'main.ts')], {
      env: { ...process.env, CDKTF_OUTDIR: outdir, CHECKPOINT_DISABLE: '1', MLP_COMPILED_PIPELINES: '' }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    });
    expect(out).toContain('prod-platform: synthesized, policy pack passed');
    for (const stack of fs.readdirSync(path.join(outdir, 'stacks'))) {
      const text = fs.readFileSync(path.join(outdir, 'stacks', stack, '.checkov.yaml'), 'utf8');
      expect(text).toContain(`#   checkov -d ${path.join(outdir, 'stacks', stack)} --framework terraform_json --config-file `);
      expect(parseYaml(text)['skip-check'].length).toBeGreaterThan(0);
    }
  } finally {
    fs.rmSync(outdir, { recursive: true, force: true });
  }
});
