// What a model server serves right now, from TensorFlow Serving's status endpoints (GET /v1/models/<name>
// and /v1/models/<name>/labels/<label>, which `mlp serve` answers too). TF Serving has no endpoint listing
// a model's labels, so the labels asked about are the configured ones; a label the server does not know is
// left out. The UI never fails because the server is down: the error is part of the answer.

export const DEFAULT_LABELS = ['stable', 'canary'];
const TIMEOUT_MS = 3000;

export interface LiveVersion {
  version: string;
  state: string;
  error?: string;
}

export interface LiveStatus {
  versions: LiveVersion[];
  /** Label → version, for the labels the server answered. */
  labels: Record<string, string>;
  error?: string;
}

interface StatusBody {
  model_version_status?: { version: string; state: string; status?: { error_code?: string; error_message?: string } }[];
  error?: string;
}

async function getStatus(url: string): Promise<{ ok: boolean; status: number; body: StatusBody }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS) });
  const body = (await res.json().catch(() => ({}))) as StatusBody;
  return { ok: res.ok, status: res.status, body };
}

export async function liveStatus(serverUrl: string, model: string, labels: string[]): Promise<LiveStatus> {
  const base = `${serverUrl.replace(/\/+$/, '')}/v1/models/${encodeURIComponent(model)}`;
  try {
    const status = await getStatus(base);
    if (!status.ok) return { versions: [], labels: {}, error: status.body.error ?? `${base} answered HTTP ${status.status}` };
    const versions = (status.body.model_version_status ?? []).map((v) => ({
      version: String(v.version),
      state: v.state,
      ...(v.status?.error_message ? { error: v.status.error_message } : {}),
    }));
    const found: Record<string, string> = {};
    await Promise.all(
      labels.map(async (label) => {
        const answer = await getStatus(`${base}/labels/${encodeURIComponent(label)}`);
        const version = answer.ok ? answer.body.model_version_status?.[0]?.version : undefined;
        if (version !== undefined) found[label] = String(version);
      }),
    );
    return { versions, labels: found };
  } catch (err) {
    return { versions: [], labels: {}, error: `cannot reach the model server at ${serverUrl}: ${(err as Error).message}` };
  }
}
