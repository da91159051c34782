// WorkloadNamespace: the Kubernetes namespace the platform's workloads run in, with one Kubernetes service account per
// WorkloadIdentity role, annotated with its Google service account (the other half of the Workload Identity binding).
import { Construct } from 'constructs';
import { NamespaceV1 } from '@cdktf/provider-kubernetes/lib/namespace-v1';
import { ServiceAccountV1 } from '@cdktf/provider-kubernetes/lib/service-account-v1';
import { ConstructValidationError } from './errors';
import { PlatformRole, RoleIdentity } from './workload-identity';

export interface WorkloadNamespaceProps {
  /** The identities whose Kubernetes service accounts to create; all must share one namespace. */
  readonly identities: readonly RoleIdentity[];
  /**
   * Labels on the namespace.
   * @default - `app.kubernetes.io/managed-by: cdktf` only
   */
  readonly labels?: { readonly [key: string]: string };
  /**
   * Pod Security Standard enforced on the namespace (`pod-security.kubernetes.io/enforce`); `restricted` is always
   * warned about and audited.
   * @default 'baseline' - Argo's executor and init containers and the Cloud SQL Auth Proxy sidecar of compiled
   * templates do not all set the securityContext `restricted` requires
   */
  readonly podSecurity?: 'restricted' | 'baseline';
  /**
   * Roles whose service account token is mounted into pods (they call the Kubernetes API).
   * @default ['pipeline-runner'] - Argo's executor reports step results through the API; no other role needs it
   */
  readonly kubernetesApiAccess?: readonly PlatformRole[];
}

/** Construct ids: `namespace`, `ksa-<role>`. */
export class WorkloadNamespace extends Construct {
  readonly namespace: NamespaceV1;
  /** Namespace name (literal). */
  readonly name: string;
  readonly serviceAccounts: { readonly [role: string]: ServiceAccountV1 };

  constructor(scope: Construct, id: string, props: WorkloadNamespaceProps) {
    super(scope, id);
    const fail = (msg: string) => new ConstructValidationError('WorkloadNamespace', this, msg);
    if (props.identities.length === 0) throw fail('identities is empty; pass the WorkloadIdentity roles whose service accounts workloads use.');
    const namespaces = [...new Set(props.identities.map((i) => i.kubernetesNamespace))];
    if (namespaces.length !== 1) throw fail(`identities live in several namespaces (${namespaces.join(', ')}); create one WorkloadNamespace per namespace.`);
    this.name = namespaces[0];
    this.namespace = new NamespaceV1(this, 'namespace', {
      metadata: {
        name: this.name,
        labels: {
          'app.kubernetes.io/managed-by': 'cdktf',
          'pod-security.kubernetes.io/enforce': props.podSecurity ?? 'baseline',
          'pod-security.kubernetes.io/warn': 'restricted',
          'pod-security.kubernetes.io/audit': 'restricted',
          ...(props.labels ?? {}),
        },
      },
    });
    const apiAccess = new Set(props.kubernetesApiAccess ?? ['pipeline-runner']);
    const accounts: { [role: string]: ServiceAccountV1 } = {};
    for (const identity of props.identities) {
      accounts[identity.role] = new ServiceAccountV1(this, `ksa-${identity.role}`, {
        metadata: {
          name: identity.kubernetesServiceAccount,
          namespace: this.namespace.metadata.name,
          annotations: identity.kubernetesAnnotations(),
          labels: { 'app.kubernetes.io/managed-by': 'cdktf', 'ml-platform/role': identity.role },
        },
        automountServiceAccountToken: apiAccess.has(identity.role),
      });
    }
    this.serviceAccounts = accounts;
  }
}
