// ContainerRegistry: immutable tags with a mutable -cache repository, remote repositories (Docker Hub, NGC), CMEK on
// every repository and on the Pub/Sub topics of BuildTriggers and DataTransfer (CKV_GCP_83/84 suppressed with the
// reason when no key is given), and their validation errors.
import { Aspects, Testing } from 'cdktf';
import { ArtifactRegistryRepository } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ContainerRegistry, ContainerRegistryProps } from '../../constructs/container-registry';
import { BuildTriggers } from '../../constructs/build-triggers';
import { DataTransfer } from '../../constructs/data-transfer';
import { ExistingBucket } from '../../constructs/artifact-store';
import { Principal } from '../../constructs/principal';
import { PolicyPack } from '../../constructs/policy/policy-pack';
import { Json, baseStack, errorOf, resourcesOf, synthJson, workloadBase } from './helpers';

const KEY = 'projects/acme-kms/locations/us-central1/keyRings/ml/cryptoKeys/images';
function registry(props: Partial<ContainerRegistryProps> = {}) {
  const base = baseStack();
  const reg = new ContainerRegistry(base.stack, 'reg', { repositoryId: 'ml-images', location: 'us-central1', project: 'acme-ml-test', ...props });
  return { base, reg };
}
/** Policy report of the stack: the pack's findings and suppressions. */
function report(stack: ReturnType<typeof baseStack>['stack']) {
  const pack = new PolicyPack({ failOnViolation: false });
  Aspects.of(stack).add(pack);
  Testing.synth(stack);
  return pack.reports.get(stack.node.id)!;
}
const repositories = (json: Json): { [id: string]: Json } => Object.fromEntries(resourcesOf(json, 'google_artifact_registry_repository').map((r) => [r.repository_id, r]));

describe('ContainerRegistry', () => {
  test('tags are immutable by default; build caches get a mutable -cache repository with a short cleanup', () => {
    const { base, reg } = registry({ deleteUntaggedAfterDays: 5 });
    const repos = repositories(synthJson(base.stack));
    expect(repos['ml-images'].docker_config).toEqual({ immutable_tags: true });
    expect(repos['ml-images-cache']).toMatchObject({
      format: 'DOCKER',
      docker_config: { immutable_tags: false },
      cleanup_policies: [
        { id: 'keep-recent-versions', action: 'KEEP', most_recent_versions: { keep_count: 2 } },
        { id: 'delete-old', action: 'DELETE', condition: { tag_state: 'ANY', older_than: '432000s' } },
      ],
    });
    expect(reg.immutableTags).toBe(true);
    expect(reg.cacheImagePrefix).toBe('us-central1-docker.pkg.dev/acme-ml-test/ml-images-cache');
    // The cache repository is written only by who is granted cache pushes.
    reg.grantCachePush(Principal.serviceAccount('ci', 'ci@acme-ml-test.iam.gserviceaccount.com'));
    expect(resourcesOf(synthJson(base.stack), 'google_artifact_registry_repository_iam_member').map((m) => [m.role, m.repository])).toEqual([
      ['roles/artifactregistry.writer', expect.stringMatching(/^\$\{google_artifact_registry_repository\.reg_cache-repository_/)],
    ]);
  });

  test('mutable tags: no cache repository and grantCachePush grants nothing', () => {
    const { base, reg } = registry({ immutableTags: false });
    reg.grantCachePush(Principal.serviceAccount('ci', 'ci@acme-ml-test.iam.gserviceaccount.com'));
    const json = synthJson(base.stack);
    expect(Object.keys(repositories(json))).toEqual(['ml-images']);
    expect(repositories(json)['ml-images'].docker_config).toEqual({ immutable_tags: false });
    expect(resourcesOf(json, 'google_artifact_registry_repository_iam_member')).toEqual([]);
    expect(reg.cacheImagePrefix).toBeUndefined();
  });

  test('remote repositories proxy Docker Hub and NGC, with credentials from Secret Manager, cached-image cleanup and pull grants', () => {
    const { base, reg } = registry({
      remoteRepositories: [
        { repositoryId: 'dockerhub', upstream: 'docker-hub' },
        { repositoryId: 'ngc', upstream: 'ngc', credentials: { username: '$oauthtoken', passwordSecretVersion: 'projects/acme-ml-test/secrets/ngc-api-key/versions/3' }, deleteCachedAfterDays: 14 },
      ],
    });
    reg.grantPull(Principal.group('devs', 'ml-devs@acme.com'));
    const synth = Testing.synth(base.stack);
    expect(synth).toHaveResourceWithProperties(ArtifactRegistryRepository, {
      repository_id: 'dockerhub',
      mode: 'REMOTE_REPOSITORY',
      format: 'DOCKER',
      remote_repository_config: { description: 'Docker Hub', docker_repository: { public_repository: 'DOCKER_HUB' } },
      cleanup_policies: [{ id: 'delete-cached', action: 'DELETE', condition: { tag_state: 'ANY', older_than: '2592000s' } }],
    });
    expect(synth).toHaveResourceWithProperties(ArtifactRegistryRepository, {
      repository_id: 'ngc',
      mode: 'REMOTE_REPOSITORY',
      remote_repository_config: {
        description: 'NVIDIA NGC (nvcr.io)',
        docker_repository: { custom_repository: { uri: 'https://nvcr.io' } },
        upstream_credentials: { username_password_credentials: { username: '$oauthtoken', password_secret_version: 'projects/acme-ml-test/secrets/ngc-api-key/versions/3' } },
      },
      cleanup_policies: [{ id: 'delete-cached', action: 'DELETE', condition: { tag_state: 'ANY', older_than: '1209600s' } }],
    });
    const pulls = resourcesOf(synthJson(base.stack), 'google_artifact_registry_repository_iam_member').map((m) => String(m.repository).replace(/^\$\{google_artifact_registry_repository\.reg_([a-z-]+)_[0-9A-F]+\.name\}$/, '$1'));
    expect(pulls.sort()).toEqual(['remote-dockerhub', 'remote-ngc', 'repository']);
    expect(reg.remoteImagePrefix('ngc')).toBe('us-central1-docker.pkg.dev/acme-ml-test/ngc');
    expect(errorOf(() => reg.remoteImagePrefix('quay'))).toBe("ContainerRegistry 'test/reg': no remote repository 'quay'; remoteRepositories has dockerhub, ngc.");
  });

  test('CMEK: kmsKeyName on every repository, and no CKV_GCP_84 finding; without it, each repository records why', () => {
    const withKey = registry({ kmsKeyName: KEY, remoteRepositories: [{ repositoryId: 'dockerhub', upstream: 'docker-hub' }] });
    for (const r of Object.values(repositories(synthJson(withKey.base.stack)))) expect(r.kms_key_name).toBe(KEY);
    const keyed = report(withKey.base.stack);
    expect([...keyed.violations, ...keyed.suppressed].filter((f) => f.ruleId === 'CKV_GCP_84')).toEqual([]);

    const without = registry();
    const plain = report(without.base.stack);
    expect(plain.violations.filter((f) => f.ruleId === 'CKV_GCP_84')).toEqual([]);
    expect(plain.suppressed.filter((f) => f.ruleId === 'CKV_GCP_84').map((f) => [f.path, f.reason])).toEqual([
      ['test/reg/repository', 'No kmsKeyName given: the repository is encrypted at rest with Google-managed keys; pass kmsKeyName for a customer-managed key.'],
      ['test/reg/cache-repository', 'No kmsKeyName given: the repository is encrypted at rest with Google-managed keys; pass kmsKeyName for a customer-managed key.'],
    ]);
  });

  test('validation: key names, remote repositories, ids', () => {
    expect(errorOf(() => registry({ kmsKeyName: 'images-key' }))).toBe(
      "ContainerRegistry 'test/reg': kmsKeyName 'images-key' must be a key resource name like projects/<p>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>.");
    expect(errorOf(() => registry({ remoteRepositories: [{ repositoryId: 'Hub', upstream: 'docker-hub' }] }))).toBe(
      "ContainerRegistry 'test/reg': remote repositoryId 'Hub' is invalid; use 1-63 lowercase letters, digits or '-', starting with a letter.");
    expect(errorOf(() => registry({ remoteRepositories: [{ repositoryId: 'quay', upstream: 'quay' as never }] }))).toBe(
      "ContainerRegistry 'test/reg': remote repository 'quay' upstream 'quay' must be one of docker-hub, ngc.");
    expect(errorOf(() => registry({ remoteRepositories: [{ repositoryId: 'ngc', upstream: 'ngc', credentials: { username: '$oauthtoken', passwordSecretVersion: 'ngc-key' } }] }))).toBe(
      "ContainerRegistry 'test/reg': remote repository 'ngc' passwordSecretVersion 'ngc-key' must be a secret version like projects/<p>/secrets/<s>/versions/<v>.");
    expect(errorOf(() => registry({ remoteRepositories: [{ repositoryId: 'hub', upstream: 'docker-hub', deleteCachedAfterDays: 0 }] }))).toBe(
      "ContainerRegistry 'test/reg': remote repository 'hub' deleteCachedAfterDays 0 must be a positive integer.");
    expect(errorOf(() => registry({ remoteRepositories: [{ repositoryId: 'ml-images-cache', upstream: 'docker-hub' }] }))).toBe(
      "ContainerRegistry 'test/reg': repository id 'ml-images-cache' is used twice (the main repository, its -cache companion and the remote repositories need distinct ids).");
    expect(errorOf(() => registry({ repositoryId: `a${'b'.repeat(57)}` }))).toMatch(/leaves no room for the cache repository '<id>-cache'/);
  });
});

describe('Pub/Sub topics take a CMEK key', () => {
  const TOPIC_KEY = 'projects/acme-kms/locations/us-central1/keyRings/ml/cryptoKeys/topics';
  test('BuildTriggers run topics: kms_key_name set, or CKV_GCP_83 suppressed with the reason', () => {
    const triggers = (kmsKeyName?: string) => {
      const base = workloadBase();
      new BuildTriggers(base.stack, 'build', {
        environment: 'prod', project: 'acme-ml-test', region: 'us-central1', source: { kind: 'github', owner: 'acme', name: 'gcp-ml-platform' },
        accountPrefix: 'mlp-test', registry: base.registry, stateBucket: 'acme-ml-tfstate', pipelineRuns: [{ pipeline: 'spine-demo' }], kmsKeyName,
      });
      return base;
    };
    const keyed = triggers(TOPIC_KEY);
    expect(resourcesOf(synthJson(keyed.stack), 'google_pubsub_topic').map((t) => t.kms_key_name)).toEqual([TOPIC_KEY]);
    expect(report(keyed.stack).suppressed.filter((f) => f.ruleId === 'CKV_GCP_83')).toEqual([]);
    const plain = triggers();
    expect(report(plain.stack).suppressed.filter((f) => f.ruleId === 'CKV_GCP_83').map((f) => f.path)).toEqual(['test/build/run-spine-demo-topic']);
    expect(errorOf(() => triggers('topics'))).toMatch(/^BuildTriggers 'test\/build': kmsKeyName 'topics' must be a key resource name like /);
  });

  test('DataTransfer notifications topic: kms_key_name set, or CKV_GCP_83 suppressed with the reason', () => {
    const transfer = (kmsKeyName?: string) => {
      const base = workloadBase();
      const source = ExistingBucket.fromName(base.stack, 'landing', 'acme-data-landing');
      new DataTransfer(base.stack, 'transfer', {
        name: 'flights-in', project: 'acme-ml-test', sink: base.store.rawData, trigger: { kind: 'schedule', startDate: '2025-01-01' }, source: { kind: 'gcs', bucket: source }, kmsKeyName,
      });
      return base;
    };
    const keyed = transfer(TOPIC_KEY);
    expect(resourcesOf(synthJson(keyed.stack), 'google_pubsub_topic').map((t) => t.kms_key_name)).toEqual([TOPIC_KEY]);
    expect(report(keyed.stack).suppressed.filter((f) => f.ruleId === 'CKV_GCP_83')).toEqual([]);
    expect(report(transfer().stack).suppressed.filter((f) => f.ruleId === 'CKV_GCP_83').map((f) => f.reason)).toEqual([
      'No kmsKeyName given: the topic is encrypted at rest with Google-managed keys; pass kmsKeyName for a customer-managed key.',
    ]);
    expect(errorOf(() => transfer('topics'))).toMatch(/^DataTransfer 'test\/transfer': kmsKeyName 'topics' must be a key resource name like /);
  });
});
