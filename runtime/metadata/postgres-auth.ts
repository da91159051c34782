// Where a PostgreSQL metadata store's password comes from when its address carries none, so that compiled
// pipelines and submitted jobs never hold one. MLP_METADATA_AUTH says which source:
//   unset          pg's own: PGPASSWORD (Argo and Composer pods set it from a Kubernetes Secret, secretKeyRef),
//                  ~/.pgpass, or none at all through the Cloud SQL Auth Proxy with --auto-iam-authn
//   gcp-iam        Cloud SQL IAM database authentication on a direct connection (Vertex AI steps): the step's
//                  service account's OAuth access token (Application Default Credentials) is the password of
//                  every new connection, fetched again as it expires
//   secret-manager:projects/P/secrets/S/versions/V   the password, read from Secret Manager once at start
// Google APIs are called over REST with google-auth-library (already a dependency, loaded only here).

import { UserError } from '../core/errors';
import { urlHasPassword } from '../core/redact-url';

export const METADATA_AUTH_ENV = 'MLP_METADATA_AUTH';
export const IAM_AUTH = 'gcp-iam';
export const SECRET_MANAGER_AUTH = 'secret-manager:';
/** A Secret Manager secret version resource name. */
export const SECRET_VERSION = /^projects\/[^/]+\/secrets\/[^/]+\/versions\/[^/]+$/;

/** The Google calls a password source makes; tests pass stand-ins (no live Google Cloud is reachable there). */
export interface GoogleAccess {
  /** An OAuth access token for Cloud SQL logins (cached and refreshed by google-auth-library). */
  accessToken(): Promise<string>;
  /** The payload of a Secret Manager secret version, decoded. */
  accessSecret(version: string): Promise<string>;
}

const SQL_LOGIN_SCOPE = 'https://www.googleapis.com/auth/sqlservice.login';
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

/** Application Default Credentials: the step's service account on Vertex AI, GKE (workload identity) or Composer. */
export const adcAccess: GoogleAccess = {
  async accessToken() {
    const { GoogleAuth } = await import('google-auth-library');
    const token = await googleCall('an access token for Cloud SQL IAM database authentication', () => new GoogleAuth({ scopes: [SQL_LOGIN_SCOPE] }).getAccessToken());
    if (!token) throw new UserError('Application Default Credentials gave no access token for Cloud SQL IAM database authentication');
    return token;
  },
  async accessSecret(version) {
    const { GoogleAuth } = await import('google-auth-library');
    const client = new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
    const res = await googleCall(`Secret Manager ${version}`, () =>
      client.request<{ payload?: { data?: string } }>({ url: `https://secretmanager.googleapis.com/v1/${version}:access` }),
    );
    const data = res.data.payload?.data;
    if (!data) throw new UserError(`Secret Manager ${version} has an empty payload: store the metadata database password in it`);
    return Buffer.from(data, 'base64').toString('utf8');
  },
};

async function googleCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    const e = err as Error & { response?: { status?: number; data?: { error?: { message?: string } } } };
    const message = e.response?.data?.error?.message ?? e.message;
    throw new UserError(`cannot get ${what}${e.response?.status ? ` (HTTP ${e.response.status})` : ''}: ${message.split('\n')[0]}`);
  }
}

/**
 * The password of every new connection to `url` as MLP_METADATA_AUTH in `env` says, or undefined to leave it to
 * pg (the URL's own password, PGPASSWORD, ~/.pgpass, or none). A URL with a password and MLP_METADATA_AUTH
 * set at once is refused: one of them would be ignored.
 */
export function metadataPassword(url: string, env: NodeJS.ProcessEnv = process.env, google: GoogleAccess = adcAccess): (() => Promise<string>) | undefined {
  const auth = env[METADATA_AUTH_ENV];
  if (!auth) return undefined;
  if (urlHasPassword(url)) throw new UserError(`${METADATA_AUTH_ENV}=${auth} but the metadata address has a password too: remove the password from the address`);
  if (auth === IAM_AUTH) return () => google.accessToken();
  if (auth.startsWith(SECRET_MANAGER_AUTH)) {
    const version = auth.slice(SECRET_MANAGER_AUTH.length);
    if (!SECRET_VERSION.test(version)) throw new UserError(`${METADATA_AUTH_ENV}: "${version}" is not a secret version such as projects/P/secrets/S/versions/latest`);
    let read: Promise<string> | undefined;
    return () => (read ??= google.accessSecret(version));
  }
  throw new UserError(`${METADATA_AUTH_ENV} must be ${IAM_AUTH} or ${SECRET_MANAGER_AUTH}projects/P/secrets/S/versions/V, got "${auth}"`);
}
