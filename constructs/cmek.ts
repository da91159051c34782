// Customer-managed encryption keys (CMEK) for the constructs that take an optional kmsKeyName: the key name check
// and the reason recorded when a resource runs on Google-managed keys instead (Checkov's CKV_GCP_83/84 suppressed
// with it, so the decision shows at synth and in the stack's Checkov config), and the grant that lets a Google
// service agent use the key (without it the API refuses to create the encrypted resource at apply).
import { Construct } from 'constructs';
import { KmsCryptoKeyIamMember } from '@cdktf/provider-google/lib/kms-crypto-key-iam-member';
import { projectNumber } from './project-number';

const KMS_KEY = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

/** Checks a Cloud KMS key resource name; returns the problem or undefined. */
export function kmsKeyProblem(key: string | undefined): string | undefined {
  return key === undefined || KMS_KEY.test(key) ? undefined : `kmsKeyName '${key}' must be a key resource name like projects/<p>/locations/<region>/keyRings/<ring>/cryptoKeys/<key>`;
}

/** The suppression reason of a resource without kmsKeyName. */
export function googleManagedKeyReason(what: string): string {
  return `No kmsKeyName given: ${what} is encrypted at rest with Google-managed keys; pass kmsKeyName for a customer-managed key.`;
}

/**
 * Grants `agentEmail` roles/cloudkms.cryptoKeyEncrypterDecrypter on `key` (construct id `id`); the encrypted resource
 * must `dependsOn` the returned grant.
 */
export function grantKeyToAgent(scope: Construct, id: string, key: string, agentEmail: string): KmsCryptoKeyIamMember {
  return new KmsCryptoKeyIamMember(scope, id, { cryptoKeyId: key, role: 'roles/cloudkms.cryptoKeyEncrypterDecrypter', member: `serviceAccount:${agentEmail}` });
}

/**
 * The documented e-mail of a per-project Google service agent, `service-<project number>@<agentDomain>` (e.g.
 * `container-engine-robot.iam.gserviceaccount.com`), the number read by a `google_project` data source (id `project`,
 * shared within `scope`). For agents the google provider cannot create (google_project_service_identity is google-beta only).
 */
export function serviceAgentEmail(scope: Construct, project: string, agentDomain: string): string {
  return `service-${projectNumber(scope, project)}@${agentDomain}`;
}
