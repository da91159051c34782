// ServiceAccountIdentity: a dedicated Google service account as a grantable principal (a construct, so grants made on
// resources of other stacks land in its stack), with project roles and Workload Identity bindings by method.
import { Construct } from 'constructs';
import { ServiceAccount } from '@cdktf/provider-google/lib/service-account';
import { ServiceAccountIamMember } from '@cdktf/provider-google/lib/service-account-iam-member';
import { ProjectIamMember } from '@cdktf/provider-google/lib/project-iam-member';
import { ConstructValidationError } from './errors';
import { IServiceAccountPrincipal } from './metadata-database';

export interface ServiceAccountIdentityProps {
  /** Service account id (6-30 lowercase letters, digits or '-'). */
  readonly accountId: string;
  /** Project of the account and of its project roles. */
  readonly project: string;
  /** Shown in the console. */
  readonly displayName: string;
  /**
   * Stable id used in grant construct ids.
   * @default - the accountId
   */
  readonly principalId?: string;
  /**
   * Project-level roles (predefined roles only; basic roles are refused).
   * @default - none
   */
  readonly projectRoles?: readonly string[];
}

/** Construct ids: `service-account`, one `<role slug>` per project role, `wi-<namespace>-<ksa>` per Workload Identity binding. */
export class ServiceAccountIdentity extends Construct implements IServiceAccountPrincipal {
  readonly serviceAccount: ServiceAccount;
  readonly principalId: string;
  readonly email: string;
  /** The e-mail as a literal (`<accountId>@<project>.iam.gserviceaccount.com`), for places that cannot take a token. */
  readonly emailAddress: string;
  readonly iamMember: string;
  private readonly project: string;

  constructor(scope: Construct, id: string, props: ServiceAccountIdentityProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(props.accountId)) {
      throw new ConstructValidationError('ServiceAccountIdentity', this, `accountId '${props.accountId}' must be 6-30 lowercase letters, digits or '-', starting with a letter; shorten the prefix it is built from.`);
    }
    this.project = props.project;
    this.principalId = props.principalId ?? props.accountId;
    this.serviceAccount = new ServiceAccount(this, 'service-account', { accountId: props.accountId, project: props.project, displayName: props.displayName });
    this.email = this.serviceAccount.email;
    this.emailAddress = `${props.accountId}@${props.project}.iam.gserviceaccount.com`;
    this.iamMember = `serviceAccount:${this.serviceAccount.email}`;
    for (const role of props.projectRoles ?? []) this.grantProjectRole(role);
  }

  /** Grants a predefined role on the project (idempotent). */
  grantProjectRole(role: string): ProjectIamMember {
    if (!/^roles\/[A-Za-z0-9.]+$/.test(role) || ['roles/owner', 'roles/editor', 'roles/viewer'].includes(role)) {
      throw new ConstructValidationError('ServiceAccountIdentity', this, `project role '${role}' is not a predefined role (basic roles owner/editor/viewer are refused); grant the specific roles the workload needs.`);
    }
    const id = role.replace(/^roles\//, '').replace(/\./g, '-');
    return (this.node.tryFindChild(id) as ProjectIamMember | undefined)
      ?? new ProjectIamMember(this, id, { project: this.project, role, member: this.iamMember });
  }

  /** Lets Kubernetes service account `<namespace>/<name>` of a cluster's pool act as this account (Workload Identity). */
  bindKubernetesServiceAccount(workloadPool: string, namespace: string, name: string): ServiceAccountIamMember {
    const id = `wi-${namespace}-${name}`;
    return (this.node.tryFindChild(id) as ServiceAccountIamMember | undefined) ?? new ServiceAccountIamMember(this, id, {
      serviceAccountId: this.serviceAccount.name,
      role: 'roles/iam.workloadIdentityUser',
      member: `serviceAccount:${workloadPool}[${namespace}/${name}]`,
    });
  }

  /** Lets `principal` run things as this account (roles/iam.serviceAccountUser on this account only, not the project). */
  grantActAs(principal: { readonly principalId: string; readonly iamMember: string }): ServiceAccountIamMember {
    const id = `act-as-${principal.principalId}`;
    return (this.node.tryFindChild(id) as ServiceAccountIamMember | undefined) ?? new ServiceAccountIamMember(this, id, {
      serviceAccountId: this.serviceAccount.name,
      role: 'roles/iam.serviceAccountUser',
      member: principal.iamMember,
    });
  }
}
