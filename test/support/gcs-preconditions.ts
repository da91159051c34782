// Test helper: makes the GCS emulator honour generation preconditions (ifGenerationMatch) on single-request
// uploads and on deletes, as GCS does. firebase-tools' Storage emulator (15.34.2) ignores them: a second upload
// with ifGenerationMatch=0 succeeds and a delete at a wrong generation deletes. The storage layer's publish
// claim and commit marker rely on them, so without this no concurrent publish could be tested on it.
//
// Requests carrying a precondition are serialized per object (each waits until the previous one's response is
// closed), so the check and the write are one step, as on GCS; a failed check is GCS's 412 conditionNotMet.

import type { IncomingMessage, ServerResponse } from 'http';

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

/** The emulator's storage layer: the stored generation of an object, if it exists. */
export interface GenerationSource {
  getMetadata(bucket: string, object: string): { generation?: number | string } | undefined;
}

/** Wraps the emulator's request handler; requests without ifGenerationMatch go straight through. */
export function honourPreconditions(app: Handler, layer: GenerationSource): Handler {
  const queues = new Map<string, Promise<void>>();
  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const wanted = url.searchParams.get('ifGenerationMatch');
    if (wanted === null) return app(req, res);
    const target = conditionalTarget(req.method ?? '', url);
    if (!target) {
      // Loud rather than silently unconditional: only what the runtime uses is emulated.
      res.writeHead(501, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 501, message: `ifGenerationMatch is not emulated for ${req.method} ${url.pathname}` } }));
      return;
    }
    const key = `${target.bucket}/${target.object}`;
    const previous = queues.get(key) ?? Promise.resolve();
    const mine = previous.then(
      () =>
        new Promise<void>((resolve) => {
          res.once('close', () => resolve());
          const stored = layer.getMetadata(target.bucket, target.object);
          const current = stored ? Number(stored.generation) : 0;
          if (Number(wanted) === current) return app(req, res);
          const message = 'At least one of the pre-conditions you specified did not hold.';
          res.writeHead(412, { 'content-type': 'application/json' }).end(
            JSON.stringify({ error: { code: 412, message, errors: [{ message, reason: 'conditionNotMet', domain: 'global' }] } }),
          );
        }),
    );
    queues.set(key, mine);
    void mine.then(() => {
      if (queues.get(key) === mine) queues.delete(key);
    });
  };
}

/** The object a conditional request writes: a single-request upload (name in the query) or a delete. */
function conditionalTarget(method: string, url: URL): { bucket: string; object: string } | undefined {
  const upload = /^\/upload\/storage\/v1\/b\/([^/]+)\/o$/.exec(url.pathname);
  const uploadType = url.searchParams.get('uploadType');
  const name = url.searchParams.get('name');
  if (method === 'POST' && upload && name && (uploadType === 'multipart' || uploadType === 'media')) {
    return { bucket: decodeURIComponent(upload[1]), object: name };
  }
  const object = /^(?:\/storage\/v1)?\/b\/([^/]+)\/o\/([^/]+)$/.exec(url.pathname);
  if (method === 'DELETE' && object) return { bucket: decodeURIComponent(object[1]), object: decodeURIComponent(object[2]) };
  return undefined;
}
