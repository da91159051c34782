// ContainerRegistry: an Artifact Registry Docker repository with cleanup policies and pull/push grants.
import { Construct } from 'constructs';
import { ArtifactRegistryRepository, ArtifactRegistryRepositoryCleanupPolicies } from '@cdktf/provider-google/lib/artifact-registry-repository';
import { ArtifactRegistryRepositoryIamMember } from '@cdktf/provider-google/lib/artifact-registry-repository-iam-member';
import { ConstructValidationError, validateGcpLabels } from './errors';
import { IPrincipal, placeGrant } from './principal';

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
   * Forbid moving or deleting tags.
   * @default false
   */
  readonly immutableTags?: boolean;
  /**
   * Cloud KMS key for CMEK.
   * @default - Google-managed encryption keys
   */
  readonly kmsKeyName?: string;
  /**
   * Labels on the repository.
   * @default - none
   */
  readonly labels?: { readonly [key: string]: string };
}

/** Docker repository. Construct ids: `repository`, `pull-<principalId>`, `push-<principalId>`. */
export class ContainerRegistry extends Construct {
  readonly repository: ArtifactRegistryRepository;
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
    if (!/^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/.test(props.repositoryId)) throw fail(`repositoryId '${props.repositoryId}' is invalid; use 1-63 lowercase letters, digits or '-', starting with a letter.`);
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
      dockerConfig: { immutableTags: props.immutableTags ?? false },
      cleanupPolicyDryRun: props.cleanupDryRun ?? false,
      cleanupPolicies: policies,
    });
    this.repositoryId = props.repositoryId;
    this.location = props.location;
    this.project = props.project;
    this.imagePrefix = `${props.location}-docker.pkg.dev/${props.project ?? this.repository.project}/${props.repositoryId}`;
  }

  /** Pull images (roles/artifactregistry.reader). */
  grantPull(principal: IPrincipal): void { this.grant('pull', principal, 'roles/artifactregistry.reader'); }
  /** Push and pull images (roles/artifactregistry.writer). */
  grantPush(principal: IPrincipal): void { this.grant('push', principal, 'roles/artifactregistry.writer'); }

  /**
   * Construct id `<slug>-<principalId>`; for a principal of a stack that depends on this one, the binding is created
   * under the principal as `<slug>-<repositoryId>` (see placeGrant).
   */
  private grant(slug: string, principal: IPrincipal, role: string): void {
    const placement = placeGrant(this, principal);
    const id = placement.inPrincipalStack ? `${slug}-${this.repositoryId}` : `${slug}-${principal.principalId}`;
    if (placement.scope.node.tryFindChild(id)) return;
    new ArtifactRegistryRepositoryIamMember(placement.scope, id, placement.inPrincipalStack
      ? { project: this.project, location: this.location, repository: this.repositoryId, role, member: principal.iamMember }
      : { project: this.repository.project, location: this.repository.location, repository: this.repository.name, role, member: principal.iamMember });
  }
}
