// WorkloadIdentity: one Google service account per platform role (pipeline runner, trainer, model server, transfer),
// each bound to a Kubernetes service account through GKE Workload Identity, with only the roles the role needs.
import { Construct } from 'constructs';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { BigqueryDatasetIamMember } from '@cdktf/provider-google/lib/bigquery-dataset-iam-member';
import { ConstructValidationError } from './errors';
import { MlCluster } from './cluster';
import { ArtifactStore } from './artifact-store';
import { ContainerRegistry } from './container-registry';
import { IServiceAccountPrincipal, MetadataDatabase } from './metadata-database';

export type PlatformRole = 'pipeline-runner' | 'trainer' | 'model-server' | 'transfer';
export const PLATFORM_ROLES: readonly PlatformRole[] = ['pipeline-runner', 'trainer', 'model-server', 'transfer'];

/** Project-level roles each platform role gets (nothing broader: bucket/database/registry access is per resource). */
export const PROJECT_ROLES: { readonly [R in PlatformRole]: readonly string[] } = {
  'pipeline-runner': ['roles/logging.logWriter', 'roles/monitoring.metricWriter'],
  trainer: ['roles/logging.logWriter', 'roles/monitoring.metricWriter'],
  'model-server': ['roles/logging.logWriter', 'roles/monitoring.metricWriter'],
  transfer: ['roles/logging.logWriter', 'roles/storagetransfer.user'],
};

/** The identity of one platform role. */
export class RoleIdentity extends Construct implements IServiceAccountPrincipal {
  readonly serviceAccount: ServiceAccount;
  readonly principalId: string;
  readonly email: string;
  /** The e-mail as a literal (`<prefix>-<role>@<project>.iam.gserviceaccount.com`). */
  readonly emailAddress: string;
  readonly iamMember: string;
  readonly role: PlatformRole;
  readonly kubernetesNamespace: string;
  readonly kubernetesServiceAccount: string;

  constructor(scope: Construct, role: PlatformRole, props: { project: string; accountPrefix: string; namespace: string; workloadPool: string }) {
    super(scope, role);
    this.role = role;
    this.principalId = role;
    this.kubernetesNamespace = props.namespace;
    this.kubernetesServiceAccount = role;
    this.serviceAccount = new ServiceAccount(this, 'service-account', {
      accountId: `${props.accountPrefix}-${role}`,
      project: props.project,
      displayName: `ML platform ${role}`,
    });
    this.email = this.serviceAccount.email;
    this.emailAddress = `${props.accountPrefix}-${role}@${props.project}.iam.gserviceaccount.com`;
    this.iamMember = `serviceAccount:${this.serviceAccount.email}`;
    new ServiceAccountIamMember(this, 'workload-identity-binding', {
      serviceAccountId: this.serviceAccount.name,
      role: 'roles/iam.workloadIdentityUser',
      member: `serviceAccount:${props.workloadPool}[${props.namespace}/${role}]`,
    });
    for (const projectRole of PROJECT_ROLES[role]) {
      new ProjectIamMember(this, projectRole.replace(/^roles\//, '').replace(/\./g, '-'), { project: props.project, role: projectRole, member: this.iamMember });
    }
  }

  /** Annotation to put on the Kubernetes service account. */
  kubernetesAnnotations(): { 'iam.gke.io/gcp-service-account': string } {
    return { 'iam.gke.io/gcp-service-account': this.email };
  }
}

export interface WorkloadIdentityProps {
  /** Cluster whose Workload Identity pool the KSAs live in. */
  readonly cluster: MlCluster;
  /** Kubernetes namespace of the service accounts (KSA name = role name). */
  readonly namespace: string;
  /** Prefix of the service account ids (`<prefix>-<role>`, at most 30 chars in total), e.g. `mlp-dev`. */
  readonly accountPrefix: string;
  /**
   * Roles to create identities for.
   * @default - all four: pipeline-runner, trainer, model-server, transfer
   */
  readonly roles?: readonly PlatformRole[];
}

/** Identities of the platform roles. Construct ids: `<role>` (`service-account`, `workload-identity-binding`, one per project role). */
export class WorkloadIdentity extends Construct {
  private readonly identities = new Map<PlatformRole, RoleIdentity>();
  private readonly project: string;

  constructor(scope: Construct, id: string, props: WorkloadIdentityProps) {
    super(scope, id);
    this.project = props.cluster.project;
    const fail = (msg: string) => new ConstructValidationError('WorkloadIdentity', this, msg);
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(props.namespace)) throw fail(`namespace '${props.namespace}' is not a valid Kubernetes namespace name.`);
    const roles = props.roles ?? PLATFORM_ROLES;
    if (roles.length === 0) throw fail('roles is empty; list at least one platform role or leave roles unset.');
    if (new Set(roles).size !== roles.length) throw fail(`roles lists a role twice (${roles.join(', ')}).`);
    if (!/^[a-z][a-z0-9-]*$/.test(props.accountPrefix)) throw fail(`accountPrefix '${props.accountPrefix}' must be lowercase letters, digits and '-', starting with a letter.`);
    for (const role of roles) {
      const accountId = `${props.accountPrefix}-${role}`;
      if (accountId.length < 6 || accountId.length > 30) throw fail(`service account id '${accountId}' must be 6-30 characters; shorten accountPrefix.`);
      this.identities.set(role, new RoleIdentity(this, role, {
        project: props.cluster.project, accountPrefix: props.accountPrefix, namespace: props.namespace, workloadPool: props.cluster.workloadPool,
      }));
    }
  }

  /** The identity of a role; throws if the role was not created. */
  identity(role: PlatformRole): RoleIdentity {
    const found = this.identities.get(role);
    if (!found) throw new Error(`WorkloadIdentity '${this.node.path}': role ${role} was not created; add it to roles.`);
    return found;
  }

  /** All created identities. */
  get all(): RoleIdentity[] { return [...this.identities.values()]; }

  /**
   * Grants the standard access matrix:
   * pipeline-runner: read raw data, write pipeline root/staging/models, database user, pull images;
   * trainer: read raw data, write pipeline root/staging/models, database user, pull images;
   * model-server: read models, pull images;
   * transfer: write raw data and staging (it launches Storage Transfer jobs; the agent itself gets grantTransferSink).
   */
  grantPlatformAccess(targets: { readonly store: ArtifactStore; readonly database?: MetadataDatabase; readonly registry?: ContainerRegistry }): void {
    const { store, database, registry } = targets;
    for (const identity of this.all) {
      switch (identity.role) {
        case 'pipeline-runner':
        case 'trainer':
          store.rawData.grantRead(identity);
          store.pipelineRoot.grantWrite(identity);
          store.staging.grantWrite(identity);
          store.models.grantWrite(identity);
          database?.grantConnect(identity);
          registry?.grantPull(identity);
          break;
        case 'model-server':
          store.models.grantRead(identity);
          registry?.grantPull(identity);
          break;
        case 'transfer':
          store.rawData.grantWrite(identity);
          store.staging.grantWrite(identity);
          break;
      }
    }
  }

  /**
   * Lets a role read one BigQuery dataset through query jobs (BigQueryExampleGen): roles/bigquery.jobUser on the
   * project, to run jobs, and roles/bigquery.dataViewer on that dataset only. The job's EXPORT DATA writes to the
   * pipeline root with the role's own access (grantPlatformAccess). Construct ids, under the role's identity:
   * `bigquery-jobUser` and `bigquery-dataViewer-<project>-<dataset>`. Idempotent.
   */
  grantBigQueryRead(role: PlatformRole, datasetId: string, datasetProject: string = this.project): BigqueryDatasetIamMember {
    if (!/^[A-Za-z0-9_]{1,1024}$/.test(datasetId)) {
      throw new ConstructValidationError('WorkloadIdentity', this, `BigQuery dataset id '${datasetId}' must be letters, digits or '_' (give its project as datasetProject, not in the id).`);
    }
    const identity = this.identity(role);
    if (!identity.node.tryFindChild('bigquery-jobUser')) {
      new ProjectIamMember(identity, 'bigquery-jobUser', { project: this.project, role: 'roles/bigquery.jobUser', member: identity.iamMember });
    }
    const id = `bigquery-dataViewer-${datasetProject}-${datasetId}`;
    return (identity.node.tryFindChild(id) as BigqueryDatasetIamMember | undefined) ?? new BigqueryDatasetIamMember(identity, id, {
      project: datasetProject,
      datasetId,
      role: 'roles/bigquery.dataViewer',
      member: identity.iamMember,
    });
  }
}
