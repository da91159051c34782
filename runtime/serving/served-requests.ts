// The recent predict requests of a model by request id, with the version (and traffic arm) that answered,
// so :feedback can credit the reward to them. Bounded: the oldest ids are forgotten first, and an id is
// forgotten once rewarded (a second reward for one request would count it twice).

export interface ServedRequest {
  version: number;
  /** The traffic arm that picked the version; undefined when the request named its version or label. */
  arm?: string;
}

export const DEFAULT_REMEMBERED_REQUESTS = 100_000;

/** A remembered request and the ring slot it was written to (a reused id moves to a newer slot). */
interface Entry {
  served: ServedRequest;
  slot: number;
}

export class ServedRequests {
  private readonly byId = new Map<string, Entry>();
  // Ids in the order remembered, oldest overwritten first: eviction without iterating the map, as this
  // runs for every predict request.
  private readonly ring: (string | undefined)[];
  private next = 0;

  constructor(capacity = DEFAULT_REMEMBERED_REQUESTS) {
    this.ring = new Array<string | undefined>(capacity);
  }

  remember(id: string, served: ServedRequest): void {
    const slot = this.next;
    this.next = (slot + 1) % this.ring.length;
    const old = this.ring[slot];
    // The oldest id goes, unless it was remembered again since (then its entry points at a newer slot).
    if (old !== undefined && this.byId.get(old)?.slot === slot) this.byId.delete(old);
    this.ring[slot] = id;
    this.byId.set(id, { served, slot });
  }

  /** The request, forgotten from here on; undefined when unknown, too old or already rewarded. */
  take(id: string): ServedRequest | undefined {
    const entry = this.byId.get(id);
    this.byId.delete(id);
    return entry?.served;
  }
}
