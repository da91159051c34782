// Principals that grant methods accept: anything with an IAM member string and a stable id usable in construct ids.
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
