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

/** The HTTP side of the Google calls; tests pass a stand-in (no live Google Cloud is reachable there). */
export interface GoogleTransport {
  /** An OAuth access token of the Application Default Credentials. */
  token(): Promise<string | null | undefined>;
  /** GETs a Google REST URL with those credentials: the parsed JSON body. */
  get(url: string): Promise<unknown>;
}

// cloud-platform covers Cloud SQL logins (sqlservice.login) and Secret Manager.
const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';

let adc: Promise<GoogleTransport> | undefined;

/**
 * google-auth-library with Application Default Credentials (the step's service account on Vertex AI, GKE with
 * Workload Identity or Composer), created once per process so its token is cached and refreshed as it expires.
 */
export function adcTransport(): Promise<GoogleTransport> {
  return (adc ??= import('google-auth-library').then(({ GoogleAuth }) => {
    const auth = new GoogleAuth({ scopes: [CLOUD_PLATFORM_SCOPE] });
    return { token: () => auth.getAccessToken(), get: async (url: string) => (await auth.request({ url })).data };
  }));
}

async function iamToken(transport: () => Promise<GoogleTransport>): Promise<string> {
  const what = 'an access token for Cloud SQL IAM database authentication';
  const token = await googleCall(what, async () => (await transport()).token());
  if (!token) throw new UserError(`cannot get ${what}: Application Default Credentials gave none`);
  return token;
}

/** Secret Manager's versions.access: the payload comes base64-encoded. */
async function secretPayload(transport: () => Promise<GoogleTransport>, version: string): Promise<string> {
  const body = (await googleCall(`Secret Manager ${version}`, async () => (await transport()).get(`https://secretmanager.googleapis.com/v1/${version}:access`))) as { payload?: { data?: string } };
  const data = body?.payload?.data;
  if (!data) throw new UserError(`Secret Manager ${version} has an empty payload: store the metadata database password in it`);
  return Buffer.from(data, 'base64').toString('utf8');
}

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
 * pg (the URL's own password, PGPASSWORD, ~/.pgpass, or none). MLP_METADATA_AUTH with a password in the URL or
 * PGPASSWORD set is refused: one of them would be ignored.
 */
export function metadataPassword(url: string, env: NodeJS.ProcessEnv = process.env, transport: () => Promise<GoogleTransport> = adcTransport): (() => Promise<string>) | undefined {
  const auth = env[METADATA_AUTH_ENV];
  if (!auth) return undefined;
  if (urlHasPassword(url)) throw new UserError(`${METADATA_AUTH_ENV}=${auth} but the metadata address has a password too: remove the password from the address`);
  if (env.PGPASSWORD) throw new UserError(`${METADATA_AUTH_ENV}=${auth} but PGPASSWORD is set too: unset one of them`);
  if (auth === IAM_AUTH) return () => iamToken(transport);
  if (auth.startsWith(SECRET_MANAGER_AUTH)) {
    const version = auth.slice(SECRET_MANAGER_AUTH.length);
    if (!SECRET_VERSION.test(version)) throw new UserError(`${METADATA_AUTH_ENV}: "${version}" is not a secret version such as projects/P/secrets/S/versions/latest`);
    let read: Promise<string> | undefined;
    // Read once for every connection of the process; a failed read is tried again by the next connection.
    return () =>
      (read ??= secretPayload(transport, version).catch((err: unknown) => {
        read = undefined;
        throw err;
      }));
  }
  throw new UserError(`${METADATA_AUTH_ENV} must be ${IAM_AUTH} or ${SECRET_MANAGER_AUTH}projects/P/secrets/S/versions/V, got "${auth}"`);
}
