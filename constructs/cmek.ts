// Customer-managed encryption keys (CMEK) for the constructs that take an optional kmsKeyName: the key name check
// and the reason recorded when a resource runs on Google-managed keys instead (Checkov's CKV_GCP_83/84 suppressed
// with it, so the decision shows at synth and in the stack's Checkov config).
const KMS_KEY = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

/** Checks a Cloud KMS key resource name; returns the problem or undefined. */
export function kmsKeyProblem(key: string | undefined): string | undefined {
  return key === undefined || KMS_KEY.test(key) ? undefined : `kmsKeyName '${key}' must be a key resource name like projects/<p>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>`;
}

/** The suppression reason of a resource without kmsKeyName. */
export function googleManagedKeyReason(what: string): string {
  return `No kmsKeyName given: ${what} is encrypted at rest with Google-managed keys; pass kmsKeyName for a customer-managed key.`;
}
