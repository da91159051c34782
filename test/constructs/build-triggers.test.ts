// BuildTriggers: images on runtime changes, deploy on infrastructure changes (approval where asked), Pub/Sub-triggered
// and scheduled pipeline runs; included files, substitutions, a least-privilege service account per trigger kind.
import { Aspects, Testing } from 'cdktf';
import { CloudbuildTrigger } from '@cdktf/provider-google/lib/cloudbuild-trigger';
import { BUILD_CONFIGS, BuildTriggers, BuildTriggersProps, DEPLOY_FILES, IMAGE_FILES } from '../../constructs/build-triggers';
import { ServiceAccountIdentity } from '../../constructs/service-account-identity';
import { PolicyPack } from '../../constructs/policy/policy-pack';
import { Json, WorkloadBase, errorOf, resourcesOf, synthJson, workloadBase } from './helpers';

function triggers(base: WorkloadBase, props: Partial<BuildTriggersProps> = {}, id = 'build') {
  return new BuildTriggers(base.stack, id, {
    environment: 'prod', project: 'acme-ml-test', region: 'us-central1', source: { kind: 'github', owner: 'acme', name: 'gcp-ml-platform' },
    accountPrefix: 'mlp-test', registry: base.registry, stateBucket: 'acme-ml-tfstate', ...props,
  });
}
const trigger = (json: Json, name: string) => resourcesOf(json, 'google_cloudbuild_trigger').find((t) => t.name === name)!;
const rolesOf = (json: Json, sa: string) => resourcesOf(json, 'google_project_iam_member').filter((m) => String(m.member).includes(`build_${sa}_`)).map((m) => m.role).sort();

describe('BuildTriggers', () => {
  test('images: runtime (and what goes into the image) as included files, images.yaml, push to the registry only', () => {
    const base = workloadBase();
    triggers(base);
    expect(Testing.synth(base.stack)).toHaveResourceWithProperties(CloudbuildTrigger, {
      name: 'mlp-prod-images',
      location: 'global',
      filename: BUILD_CONFIGS.images,
      included_files: ['runtime/**', 'pipelines/**', 'package.json', 'package-lock.json', 'cloudbuild/images.yaml'],
      github: { owner: 'acme', name: 'gcp-ml-platform', push: { branch: '^main$' } },
      substitutions: { _REGION: 'us-central1', _REPOSITORY: 'ml-images', _IMAGE: 'runtime', _CACHE_REPOSITORY: 'ml-images-cache' },
    });
    const json = synthJson(base.stack);
    expect(trigger(json, 'mlp-prod-images').service_account).toMatch(/^\$\{google_service_account\.build_images-builder_service-account_[0-9A-F]+\.id\}$/);
    expect(rolesOf(json, 'images-builder')).toEqual(['roles/logging.logWriter']);
    // Writer on the image repository and on its -cache companion (build caches move their tag; image tags are immutable).
    expect(resourcesOf(json, 'google_artifact_registry_repository_iam_member').filter((m) => String(m.member).includes('images-builder')).map((m) => `${m.role} ${m.repository}`).sort()).toEqual([
      expect.stringMatching(/^roles\/artifactregistry.writer \$\{google_artifact_registry_repository.registry_cache-repository_/),
      expect.stringMatching(/^roles\/artifactregistry.writer \$\{google_artifact_registry_repository.registry_repository_/),
    ]);
    expect([...IMAGE_FILES]).toContain('runtime/**');
  });

  test('deploy: constructs/stacks as included files, deploy.yaml with the environment, approval required when asked, state bucket access', () => {
    const base = workloadBase();
    triggers(base, {
      requireApproval: true, deployOn: { tag: '^v\\d+\\.\\d+\\.\\d+$' }, deployPipelines: ['spine-demo', 'flights'],
      pipelineRoot: base.store.pipelineRoot, database: base.database, pipelineIdentity: base.identities.identity('pipeline-runner'),
    });
    const json = synthJson(base.stack);
    const deploy = trigger(json, 'mlp-prod-deploy');
    expect(deploy).toMatchObject({
      filename: 'cloudbuild/deploy.yaml',
      included_files: ['constructs/**', 'stacks/**', 'cdktf.json', 'package-lock.json', 'cloudbuild/deploy.yaml'],
      approval_config: { approval_required: true },
      github: { push: { tag: '^v\\d+\\.\\d+\\.\\d+$' } },
      substitutions: {
        _ENV: 'prod', _REGION: 'us-central1', _REPOSITORY: 'ml-images', _IMAGE: 'runtime', _PIPELINES: 'spine-demo flights',
        _PIPELINE_ROOT: 'gs://acme-ml-test-pipeline-root/root', _CLOUDSQL_INSTANCE: 'acme-ml-test:us-central1:mlp-test-metadata',
        _METADATA_USER: 'mlp-test-pipeline-runner@acme-ml-test.iam',
      },
      service_account: expect.stringMatching(/build_deployer_service-account_/),
    });
    expect([...DEPLOY_FILES]).toEqual(deploy.included_files);
    expect(resourcesOf(json, 'google_storage_bucket_iam_member').filter((m) => String(m.member).includes('deployer'))).toEqual([
      expect.objectContaining({ bucket: 'acme-ml-tfstate', role: 'roles/storage.objectUser' }),
    ]);
    expect(rolesOf(json, 'deployer')).not.toContain('roles/owner');
    expect(rolesOf(json, 'deployer')).not.toContain('roles/editor');
  });

  test('without requireApproval deploys run unattended', () => {
    const base = workloadBase();
    triggers(base);
    expect(trigger(synthJson(base.stack), 'mlp-prod-deploy').approval_config).toEqual({ approval_required: false });
  });

  test('pipeline runs: a Pub/Sub topic per pipeline, a trigger on it building pipeline.yaml, a scheduler job publishing on the cron', () => {
    const base = workloadBase();
    const vertexSa = new ServiceAccountIdentity(base.stack, 'vertex', { accountId: 'mlp-test-vertex', project: 'acme-ml-test', displayName: 'v', principalId: 'vertex' });
    triggers(base, { pipelineRuns: [{ pipeline: 'spine-demo', schedule: '0 4 * * *' }, { pipeline: 'flights' }], pipelineTarget: 'kfp', pipelineRunsAs: vertexSa, imageTag: '0.1.0', pipelineRoot: base.store.pipelineRoot });
    const json = synthJson(base.stack);
    const run = trigger(json, 'mlp-prod-run-spine-demo');
    expect(run).toMatchObject({
      pubsub_config: { topic: expect.stringMatching(/^\$\{google_pubsub_topic\.build_run-spine-demo-topic_[0-9A-F]+\.id\}$/) },
      source_to_build: { uri: 'https://github.com/acme/gcp-ml-platform', ref: 'refs/heads/main', repo_type: 'GITHUB' },
      git_file_source: { path: 'cloudbuild/pipeline.yaml', uri: 'https://github.com/acme/gcp-ml-platform', revision: 'refs/heads/main', repo_type: 'GITHUB' },
      substitutions: {
        _ENV: 'prod', _PIPELINE: 'spine-demo', _TARGET: 'vertex', _REGION: 'us-central1', _REPOSITORY: 'ml-images', _IMAGE: 'runtime', _IMAGE_TAG: '0.1.0',
        _PIPELINE_ROOT: 'gs://acme-ml-test-pipeline-root/root', _SERVICE_ACCOUNT: 'mlp-test-vertex@acme-ml-test.iam.gserviceaccount.com',
      },
      service_account: expect.stringMatching(/build_runner_service-account_/),
    });
    const jobs = resourcesOf(json, 'google_cloud_scheduler_job');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ name: 'mlp-prod-run-spine-demo', schedule: '0 4 * * *', time_zone: 'Etc/UTC', pubsub_target: { topic_name: expect.stringMatching(/build_run-spine-demo-topic_/) } });
    expect(JSON.parse(Buffer.from(jobs[0].pubsub_target.data, 'base64').toString())).toEqual({ pipeline: 'spine-demo', trigger: 'schedule' });
    expect(rolesOf(json, 'runner')).toEqual(['roles/aiplatform.user', 'roles/logging.logWriter']);
    expect(resourcesOf(json, 'google_service_account_iam_member')).toContainEqual(expect.objectContaining({ role: 'roles/iam.serviceAccountUser', member: expect.stringMatching(/build_runner_service-account_/) }));
    expect(resourcesOf(json, 'google_cloudbuild_trigger').map((t) => t.name).sort()).toEqual(['mlp-prod-deploy', 'mlp-prod-images', 'mlp-prod-run-flights', 'mlp-prod-run-spine-demo']);
  });

  test('every trigger has a dedicated service account; the policy pack passes with the deployer\'s documented suppressions', () => {
    const base = workloadBase();
    triggers(base, { pipelineRuns: [{ pipeline: 'spine-demo' }] });
    const pack = new PolicyPack();
    Aspects.of(base.stack).add(pack);
    PolicyPack.suppress(base.store.accessLogs, 'CKV_GCP_62', 'The access-log bucket cannot log into itself.');
    const json = synthJson(base.stack);
    for (const t of resourcesOf(json, 'google_cloudbuild_trigger')) expect(t.service_account).toMatch(/^\$\{google_service_account\.build_[a-z-]+_service-account_[0-9A-F]+\.id\}$/);
    const report = pack.reports.get('test')!;
    expect(report.violations).toEqual([]);
    expect(new Set(report.suppressed.map((s) => `${s.ruleId} ${s.path.replace(/\/[^/]+$/, '')}`))).toEqual(new Set([
      'MLP_SA_ADMIN_ROLES test/build/deployer', 'CKV_GCP_41 test/build/deployer', 'CKV_GCP_62 test/artifacts/access-logs',
      // no kmsKeyName: the topic and the registry's repositories record that they run on Google-managed keys
      'CKV_GCP_83 test/build', 'CKV_GCP_84 test/registry', 'CKV_GCP_6 test/db',
      // the deployer manages and attaches service accounts; RBAC without Google Groups; the store on POSTGRES_16
      'CKV_GCP_49 test/build/deployer', 'CKV_GCP_65 test/cluster', 'CKV_GCP_79 test/db',
    ]));
  });

  test('2nd-gen repositories: regional triggers on the repository', () => {
    const base = workloadBase();
    triggers(base, { source: { kind: 'repository', repository: 'projects/acme-ml-test/locations/us-central1/connections/github/repositories/gcp-ml-platform' } });
    expect(trigger(synthJson(base.stack), 'mlp-prod-images')).toMatchObject({
      location: 'us-central1',
      repository_event_config: { repository: 'projects/acme-ml-test/locations/us-central1/connections/github/repositories/gcp-ml-platform', push: { branch: '^main$' } },
    });
  });

  test('refuses what would not trigger, naming the fix', () => {
    const base = workloadBase();
    expect(errorOf(() => triggers(base, { source: { kind: 'repository', repository: 'projects/p/locations/europe-west4/connections/c/repositories/r' } }, 'b1'))).toBe(
      "BuildTriggers 'test/b1': repository is in europe-west4 but triggers are created in us-central1; 2nd-gen triggers live in the repository's region.");
    expect(errorOf(() => triggers(base, { pipelineRuns: [{ pipeline: 'flights', schedule: 'nightly' }] }, 'b2'))).toBe(
      "BuildTriggers 'test/b2': pipeline run 'flights' has schedule 'nightly'; use five cron fields like '0 3 * * *'.");
    expect(errorOf(() => triggers(base, { deployOn: { branch: '(' } }, 'b3'))).toBe("BuildTriggers 'test/b3': deployOn '(' is not a regular expression.");
    expect(errorOf(() => triggers(base, { imageTag: 'latest' }, 'b4'))).toBe("BuildTriggers 'test/b4': imageTag 'latest' must be a tag other than 'latest' (the commit or release Cloud Build pushed).");
  });
});
