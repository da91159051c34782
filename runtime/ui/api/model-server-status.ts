// What a model server serves right now. `mlp serve` answers its status extension (GET
// /mlp/v1/models/<name>/serving): the versions, every label and the traffic policy (a split's weights and
// shares, or a bandit's tallies). A plain TF Serving server answers that 404; then TensorFlow Serving's own
// status endpoints are asked (GET /v1/models/<name> and /v1/models/<name>/labels/<label>). TF Serving has no
// endpoint listing a model's labels, so the labels asked about are the configured ones (a label the server
// does not know is left out), and it reports no traffic weights. The UI never fails because the server is
// down: the error is part of the answer.

export const DEFAULT_LABELS = ['stable', 'canary'];
const TIMEOUT_MS = 3000;
const NO_TRAFFIC_NOTE = 'this server does not report traffic weights';

export interface LiveVersion {
  version: string;
  state: string;
  error?: string;
}

export interface SplitArm {
  arm: string;
  version: string;
  /** As configured. */
  weight: number;
  /** The fraction of requests the arm gets with the versions loaded now. */
  share: number;
}

export interface BanditArm {
  arm: string;
  version: string;
  /** Times chosen. */
  pulls: number;
  /** Feedback received. */
  rewards: number;
  rewardSum: number;
  /** Undefined before the first reward. */
  meanReward?: number;
}

export type LiveTraffic = { kind: 'split'; stickyHeader?: string; arms: SplitArm[] } | { kind: 'bandit'; algorithm: string; arms: BanditArm[] };

export interface LiveStatus {
  versions: LiveVersion[];
  /** Label → version: every label of a server with the extension, else those of the configured ones it answered. */
  labels: Record<string, string>;
  /** null: no traffic policy, the newest version answers; absent: the server does not say (see note). */
  traffic?: LiveTraffic | null;
  /** What the server cannot tell. */
  note?: string;
  error?: string;
}

interface StatusBody {
  model_version_status?: { version: string; state: string; status?: { error_code?: string; error_message?: string } }[];
  error?: string;
}

/** The extension's answer (runtime/serving/serving-status-api.ts). */
interface ServingBody {
  versions?: { version: string; state: string; error?: string }[];
  labels?: Record<string, number>;
  traffic?:
    | { kind: 'split'; sticky_header?: string; arms: { arm: string; version: number; weight: number; share: number }[] }
    | { kind: 'bandit'; algorithm: string; arms: { arm: string; version: number; pulls: number; rewards: number; reward_sum: number; mean_reward: number | null }[] }
    | null;
  error?: string;
}

async function getJson<T>(url: string, authToken: string | undefined): Promise<{ ok: boolean; status: number; body: T & { error?: string } }> {
  const headers: Record<string, string> = authToken === undefined ? {} : { authorization: `Bearer ${authToken}` };
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = (await res.json().catch(() => ({}))) as T & { error?: string };
  return { ok: res.ok, status: res.status, body };
}

function trafficOf(t: ServingBody['traffic']): LiveTraffic | null {
  if (!t) return null;
  if (t.kind === 'split') {
    return { kind: 'split', ...(t.sticky_header ? { stickyHeader: t.sticky_header } : {}), arms: t.arms.map((a) => ({ arm: a.arm, version: String(a.version), weight: a.weight, share: a.share })) };
  }
  return {
    kind: 'bandit',
    algorithm: t.algorithm,
    arms: t.arms.map((a) => ({
      arm: a.arm,
      version: String(a.version),
      pulls: a.pulls,
      rewards: a.rewards,
      rewardSum: a.reward_sum,
      ...(typeof a.mean_reward === 'number' ? { meanReward: a.mean_reward } : {}),
    })),
  };
}

/** TF Serving's status endpoints only: versions, and the given labels the server knows. */
async function tfServingStatus(serverUrl: string, model: string, labels: string[], authToken: string | undefined): Promise<LiveStatus> {
  const base = `${serverUrl}/v1/models/${encodeURIComponent(model)}`;
  const status = await getJson<StatusBody>(base, authToken);
  if (!status.ok) return { versions: [], labels: {}, error: status.body.error ?? `${base} answered HTTP ${status.status}` };
  const versions = (status.body.model_version_status ?? []).map((v) => ({
    version: String(v.version),
    state: v.state,
    ...(v.status?.error_message ? { error: v.status.error_message } : {}),
  }));
  const found: Record<string, string> = {};
  await Promise.all(
    labels.map(async (label) => {
      const answer = await getJson<StatusBody>(`${base}/labels/${encodeURIComponent(label)}`, authToken);
      const version = answer.ok ? answer.body.model_version_status?.[0]?.version : undefined;
      if (version !== undefined) found[label] = String(version);
    }),
  );
  return { versions, labels: found, note: NO_TRAFFIC_NOTE };
}

/** `labels`: what to ask a server without the extension about; `authToken`: for a server that requires one. */
export async function liveStatus(serverUrl: string, model: string, labels: string[], authToken?: string): Promise<LiveStatus> {
  const root = serverUrl.replace(/\/+$/, '');
  const url = `${root}/mlp/v1/models/${encodeURIComponent(model)}/serving`;
  try {
    // A 404 is a server without the extension, or `mlp serve` not serving this model: TF Serving's own
    // status endpoint then tells the versions or the error.
    const serving = await getJson<ServingBody>(url, authToken);
    if (serving.status === 404) return await tfServingStatus(root, model, labels, authToken);
    if (!serving.ok) return { versions: [], labels: {}, error: serving.body.error ?? `${url} answered HTTP ${serving.status}` };
    return {
      versions: (serving.body.versions ?? []).map((v) => ({ version: String(v.version), state: v.state, ...(v.error ? { error: v.error } : {}) })),
      labels: Object.fromEntries(Object.entries(serving.body.labels ?? {}).map(([label, version]) => [label, String(version)])),
      traffic: trafficOf(serving.body.traffic),
    };
  } catch (err) {
    return { versions: [], labels: {}, error: `cannot reach the model server at ${serverUrl}: ${(err as Error).message}` };
  }
}
