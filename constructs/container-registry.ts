// ContainerRegistry: an Artifact Registry Docker repository with immutable tags, cleanup policies and pull/push
// grants; a mutable companion repository for build caches; optional remote repositories proxying Docker Hub or NVIDIA
// NGC; optional customer-managed encryption (CKV_GCP_84, suppressed with its reason when no key is given).
import { Construct } from 'constructs';
import { ArtifactRegistryRepository, ArtifactRegistryRepositoryCleanupPolicies } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member';
import { ConstructValidationError, validateGcpLabels } from './errors';
import { IPrincipal, placeGrant } from './principal';
import { PolicyPack } from './policy/policy-pack';
import { googleManagedKeyReason, kmsKeyProblem } from './cmek';

/** Upstreams a remote repository can proxy. */
export type RemoteUpstream = 'docker-hub' | 'ngc';
/** Remote (pull-through cache) Docker repository. */
export interface RemoteDockerRepository {
  /** Repository id (lowercase, 1-63 chars), e.g. `dockerhub` or `ngc`. */
  readonly repositoryId: string;
  /** `docker-hub` (Docker Hub, public repository DOCKER_HUB) or `ngc` (NVIDIA NGC, `https://nvcr.io`). */
  readonly upstream: RemoteUpstream;
  /**
   * Upstream login: user name and a Secret Manager secret version (`projects/<p>/secrets/<s>/versions/<v>`) holding the
   * password; NGC's user name is `$oauthtoken` and its password an NGC API key. The Artifact Registry service agent
   * needs roles/secretmanager.secretAccessor on the secret.
   * @default - anonymous pulls (Docker Hub rate limits apply; private NGC images are not reachable)
   */
  readonly credentials?: { readonly username: string; readonly passwordSecretVersion: string };
  /**
   * Cached images older than this many days are deleted (they are pulled again from the upstream when needed).
   * @default 30
   */
  readonly deleteCachedAfterDays?: number;
}

const UPSTREAM: { readonly [k in RemoteUpstream]: { publicRepository?: string; customRepository?: { uri: string }; description: string } } = {
  'docker-hub': { publicRepository: 'DOCKER_HUB', description: 'Docker Hub' },
  ngc: { customRepository: { uri: 'https://nvcr.io' }, description: 'NVIDIA NGC (nvcr.io)' },
};
const REPOSITORY_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
const SECRET_VERSION = /^projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+$/;

export interface ContainerRegistryProps {
  /** Repository id (lowercase, 1-63 chars). */
  readonly repositoryId: string;
  /** Region of the repository, e.g. `us-central1`. */
  readonly location: string;
  /**
   * Project of the repository.
   * @default - the provider's project
   */
  readonly project?: string;
  /**
   * Most recent versions per image that cleanup never deletes.
   * @default 10
   */
  readonly keepRecentVersions?: number;
  /**
   * Untagged images older than this many days are deleted.
   * @default 7
   */
  readonly deleteUntaggedAfterDays?: number;
  /**
   * Tagged images older than this many days are deleted (except the keepRecentVersions newest).
   * @default - tagged images are never deleted by cleanup
   */
  readonly deleteTaggedAfterDays?: number;
  /**
   * Run cleanup policies in dry-run mode (log only).
   * @default false
   */
  readonly cleanupDryRun?: boolean;
  /**
   * Forbid moving or deleting tags, so a tag names one image for good (a tag pins nothing while tags can move). Build
   * caches, which move a tag on every build, then go to the companion `<repositoryId>-cache` repository.
   * @default true
   */
  readonly immutableTags?: boolean;
  /**
   * Cloud KMS key for CMEK (`projects/<p>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>`), used by every
   * repository created here. The Artifact Registry service agent needs roles/cloudkms.cryptoKeyEncrypterDecrypter on it.
   * @default - Google-managed encryption keys; CKV_GCP_84 is suppressed with that reason
   */
  readonly kmsKeyName?: string;
  /**
   * Remote repositories proxying Docker Hub or NGC, so nodes pull base and serving images through the registry
   * (caching, one egress path, no upstream rate limits per node).
   * @default - none
   */
  readonly remoteRepositories?: readonly RemoteDockerRepository[];
  /**
   * Labels on the repository.
   * @default - none
   */
  readonly labels?: { readonly [key: string]: string };
}

/**
 * Docker repository. Construct ids: `repository`, `cache-repository` (with immutable tags), `remote-<repositoryId>`,
 * `pull-<principalId>`, `push-<principalId>`, `cache-push-<principalId>`.
 */
export class ContainerRegistry extends Construct {
  readonly repository: ArtifactRegistryRepository;
  /** Mutable-tag repository for build caches (`<repositoryId>-cache`), when tags are immutable. */
  readonly cacheRepository?: ArtifactRegistryRepository;
  /** `<location>-docker.pkg.dev/<project>/<repositoryId>-cache`, when tags are immutable. */
  readonly cacheImagePrefix?: string;
  /** Remote repositories by id. */
  readonly remoteRepositories: { readonly [repositoryId: string]: ArtifactRegistryRepository };
  /** Whether tags are immutable. */
  readonly immutableTags: boolean;
  /** `<location>-docker.pkg.dev/<project>/<repository>` */
  readonly imagePrefix: string;
  /** Repository id (literal). */
  readonly repositoryId: string;
  /** Region (literal). */
  readonly location: string;
  private readonly project?: string;

  constructor(scope: Construct, id: string, props: ContainerRegistryProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('ContainerRegistry', this, msg);
    if (!REPOSITORY_ID.test(props.repositoryId)) throw fail(`repositoryId '${props.repositoryId}' is invalid; use 1-63 lowercase letters, digits or '-', starting with a letter.`);
    const immutable = props.immutableTags ?? true;
    if (immutable && props.repositoryId.length > 57) throw fail(`repositoryId '${props.repositoryId}' leaves no room for the cache repository '<id>-cache' (63 characters at most); shorten it.`);
    const keyProblem = kmsKeyProblem(props.kmsKeyName);
    if (keyProblem) throw fail(`${keyProblem}.`);
    const remotes = props.remoteRepositories ?? [];
    for (const r of remotes) {
      if (!REPOSITORY_ID.test(r.repositoryId)) throw fail(`remote repositoryId '${r.repositoryId}' is invalid; use 1-63 lowercase letters, digits or '-', starting with a letter.`);
      if (!(r.upstream in UPSTREAM)) throw fail(`remote repository '${r.repositoryId}' upstream '${r.upstream}' must be one of ${Object.keys(UPSTREAM).join(', ')}.`);
      if (r.credentials && !SECRET_VERSION.test(r.credentials.passwordSecretVersion)) {
        throw fail(`remote repository '${r.repositoryId}' passwordSecretVersion '${r.credentials.passwordSecretVersion}' must be a secret version like projects/<p>/secrets/<s>/versions/<v>.`);
      }
      const days = r.deleteCachedAfterDays ?? 30;
      if (!Number.isInteger(days) || days < 1) throw fail(`remote repository '${r.repositoryId}' deleteCachedAfterDays ${days} must be a positive integer.`);
    }
    const ids = [props.repositoryId, ...(immutable ? [`${props.repositoryId}-cache`] : []), ...remotes.map((r) => r.repositoryId)];
    const dup = ids.find((x, i) => ids.indexOf(x) !== i);
    if (dup) throw fail(`repository id '${dup}' is used twice (the main repository, its -cache companion and the remote repositories need distinct ids).`);
    const keep = props.keepRecentVersions ?? 10;
    const untagged = props.deleteUntaggedAfterDays ?? 7;
    if (!Number.isInteger(keep) || keep < 1) throw fail(`keepRecentVersions ${keep} must be a positive integer.`);
    if (!Number.isInteger(untagged) || untagged < 1) throw fail(`deleteUntaggedAfterDays ${untagged} must be a positive integer.`);
    if (props.deleteTaggedAfterDays !== undefined && (!Number.isInteger(props.deleteTaggedAfterDays) || props.deleteTaggedAfterDays < 1)) {
      throw fail(`deleteTaggedAfterDays ${props.deleteTaggedAfterDays} must be a positive integer.`);
    }
    validateGcpLabels('ContainerRegistry', this, props.labels);

    const policies: ArtifactRegistryRepositoryCleanupPolicies[] = [
      { id: 'keep-recent-versions', action: 'KEEP', mostRecentVersions: { keepCount: keep } },
      { id: 'delete-untagged', action: 'DELETE', condition: { tagState: 'UNTAGGED', olderThan: `${untagged * 86400}s` } },
    ];
    if (props.deleteTaggedAfterDays !== undefined) {
      policies.push({ id: 'delete-old-tagged', action: 'DELETE', condition: { tagState: 'TAGGED', olderThan: `${props.deleteTaggedAfterDays * 86400}s` } });
    }
    this.repository = new ArtifactRegistryRepository(this, 'repository', {
      repositoryId: props.repositoryId,
      project: props.project,
      location: props.location,
      format: 'DOCKER',
      description: 'ML platform container images',
      kmsKeyName: props.kmsKeyName,
      labels: props.labels ? { ...props.labels } : undefined,
      dockerConfig: { immutableTags: immutable },
      cleanupPolicyDryRun: props.cleanupDryRun ?? false,
      cleanupPolicies: policies,
    });
    this.repositoryId = props.repositoryId;
    this.location = props.location;
    this.project = props.project;
    this.immutableTags = immutable;
    const prefixOf = (id: string) => `${props.location}-docker.pkg.dev/${props.project ?? this.repository.project}/${id}`;
    this.imagePrefix = prefixOf(props.repositoryId);
    const repositories = [this.repository];
    if (immutable) {
      // buildx's registry cache rewrites one tag per build, which an immutable-tag repository refuses.
      this.cacheRepository = new ArtifactRegistryRepository(this, 'cache-repository', {
        repositoryId: `${props.repositoryId}-cache`,
        project: props.project,
        location: props.location,
        format: 'DOCKER',
        description: `Build caches of ${props.repositoryId} (mutable tags)`,
        kmsKeyName: props.kmsKeyName,
        labels: props.labels ? { ...props.labels } : undefined,
        dockerConfig: { immutableTags: false },
        cleanupPolicyDryRun: props.cleanupDryRun ?? false,
        cleanupPolicies: [
          { id: 'keep-recent-versions', action: 'KEEP', mostRecentVersions: { keepCount: 2 } },
          { id: 'delete-old', action: 'DELETE', condition: { tagState: 'ANY', olderThan: `${untagged * 86400}s` } },
        ],
      });
      this.cacheImagePrefix = prefixOf(`${props.repositoryId}-cache`);
      repositories.push(this.cacheRepository);
    }
    const remoteRepositories: { [id: string]: ArtifactRegistryRepository } = {};
    for (const r of remotes) {
      const upstream = UPSTREAM[r.upstream];
      remoteRepositories[r.repositoryId] = new ArtifactRegistryRepository(this, `remote-${r.repositoryId}`, {
        repositoryId: r.repositoryId,
        project: props.project,
        location: props.location,
        format: 'DOCKER',
        mode: 'REMOTE_REPOSITORY',
        description: `Pull-through cache of ${upstream.description}`,
        kmsKeyName: props.kmsKeyName,
        labels: props.labels ? { ...props.labels } : undefined,
        remoteRepositoryConfig: {
          description: upstream.description,
          dockerRepository: { publicRepository: upstream.publicRepository, customRepository: upstream.customRepository },
          upstreamCredentials: r.credentials ? { usernamePasswordCredentials: { username: r.credentials.username, passwordSecretVersion: r.credentials.passwordSecretVersion } } : undefined,
        },
        cleanupPolicyDryRun: props.cleanupDryRun ?? false,
        cleanupPolicies: [{ id: 'delete-cached', action: 'DELETE', condition: { tagState: 'ANY', olderThan: `${(r.deleteCachedAfterDays ?? 30) * 86400}s` } }],
      });
      repositories.push(remoteRepositories[r.repositoryId]);
    }
    this.remoteRepositories = remoteRepositories;
    if (!props.kmsKeyName) {
      for (const repo of repositories) PolicyPack.suppress(repo, 'CKV_GCP_84', googleManagedKeyReason('the repository'));
    }
  }

  /** `<location>-docker.pkg.dev/<project>/<remote repositoryId>`: prefix an upstream image path with it to pull through the cache. */
  remoteImagePrefix(repositoryId: string): string {
    const repo = this.remoteRepositories[repositoryId];
    if (!repo) throw new ConstructValidationError('ContainerRegistry', this, `no remote repository '${repositoryId}'; remoteRepositories has ${Object.keys(this.remoteRepositories).join(', ') || 'none'}.`);
    return `${this.location}-docker.pkg.dev/${this.project ?? repo.project}/${repositoryId}`;
  }

  /** Pull images (roles/artifactregistry.reader), from the repository and every remote repository. */
  grantPull(principal: IPrincipal): void {
    this.grant('pull', principal, 'roles/artifactregistry.reader');
    for (const id of Object.keys(this.remoteRepositories)) this.grant(`pull-${id}`, principal, 'roles/artifactregistry.reader', id);
  }
  /** Push and pull build caches in the `-cache` repository (roles/artifactregistry.writer); nothing when tags are mutable. */
  grantCachePush(principal: IPrincipal): void {
    if (this.cacheRepository) this.grant('cache-push', principal, 'roles/artifactregistry.writer', `${this.repositoryId}-cache`);
  }
  /** Push and pull images (roles/artifactregistry.writer). */
  grantPush(principal: IPrincipal): void { this.grant('push', principal, 'roles/artifactregistry.writer'); }

  /**
   * Construct id `<slug>-<principalId>`; for a principal of a stack that depends on this one, the binding is created
   * under the principal as `<slug>-<repositoryId>` (see placeGrant).
   */
  private grant(slug: string, principal: IPrincipal, role: string, repositoryId = this.repositoryId): void {
    const placement = placeGrant(this, principal);
    const id = placement.inPrincipalStack ? `${slug}-${this.repositoryId}` : `${slug}-${principal.principalId}`;
    if (placement.scope.node.tryFindChild(id)) return;
    const repo = repositoryId === this.repositoryId ? this.repository : repositoryId === `${this.repositoryId}-cache` ? this.cacheRepository! : this.remoteRepositories[repositoryId];
    new ArtifactRegistryRepositoryIamMember(placement.scope, id, placement.inPrincipalStack
      ? { project: this.project, location: this.location, repository: repositoryId, role, member: principal.iamMember }
      : { project: repo.project, location: repo.location, repository: repo.name, role, member: principal.iamMember });
  }
}
