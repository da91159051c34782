// Principals that grant methods accept: anything with an IAM member string and a stable id usable in construct ids;
// and where a grant lands when resource and principal live in different stacks.
import { Construct, IConstruct } from 'constructs';
import { TerraformStack } from 'cdktf';

/**
 * Something IAM roles can be granted to.
 *
 * `principalId` must be stable and unique per principal: grant methods use it in construct ids
 * (`<role>-<principalId>`), so changing it replaces the IAM binding.
 */
export interface IPrincipal {
  /** Stable construct-id-safe identifier, e.g. `trainer`. */
  readonly principalId: string;
  /** IAM member string, e.g. `serviceAccount:trainer@proj.iam.gserviceaccount.com` (may be a token). */
  readonly iamMember: string;
}

/** Factory for principals that are not created by these constructs. */
export class Principal implements IPrincipal {
  /** A Google service account by e-mail. */
  static serviceAccount(principalId: string, email: string): Principal {
    return new Principal(principalId, `serviceAccount:${email}`);
  }
  /** A Google group by e-mail. */
  static group(principalId: string, email: string): Principal {
    return new Principal(principalId, `group:${email}`);
  }
  private constructor(readonly principalId: string, readonly iamMember: string) {
    if (!/^[a-z][a-z0-9-]{0,62}$/.test(principalId)) {
      throw new Error(`Principal: principalId '${principalId}' must be lowercase letters, digits and '-', starting with a letter; it is used in construct ids.`);
    }
  }
}

/** Where a grant is created and how the resource is referenced from there. */
export interface GrantPlacement {
  /** Scope of the IAM resources. */
  readonly scope: Construct;
  /** True when the grant lives in the principal's stack (ids must then name the resource; reference it by literal name). */
  readonly inPrincipalStack: boolean;
}

/**
 * Decides where a grant of `resource` to `principal` is created: normally under the resource. When the principal is a
 * construct of another stack and the resource's stack does not already depend on that stack (a platform bucket granted
 * to a workloads-stack service account), creating the grant under the resource would make the resource's stack
 * reference the principal's stack and close a cycle. The grant is then created under the principal, in its stack,
 * which is made to depend on the resource's stack (deploy order: resource first).
 */
export function placeGrant(resource: Construct, principal: IPrincipal): GrantPlacement {
  if (!Construct.isConstruct(principal as unknown as IConstruct)) return { scope: resource, inPrincipalStack: false };
  const principalConstruct = principal as unknown as Construct;
  const resourceStack = TerraformStack.of(resource);
  const principalStack = TerraformStack.of(principalConstruct);
  if (resourceStack === principalStack || resourceStack.dependsOn(principalStack)) return { scope: resource, inPrincipalStack: false };
  principalStack.addDependency(resourceStack);
  return { scope: principalConstruct, inPrincipalStack: true };
}
