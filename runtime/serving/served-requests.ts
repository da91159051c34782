// The recent predict requests of a model by request id, with the version (and traffic arm) that answered,
// so :feedback can credit the reward to them. Bounded: the oldest ids are forgotten first, and an id is
// forgotten once rewarded (a second reward for one request would count it twice).

export interface ServedRequest {
  version: number;
  /** The traffic arm that picked the version; undefined when the request named its version or label. */
  arm?: string;
}

export const DEFAULT_REMEMBERED_REQUESTS = 100_000;

export class ServedRequests {
  private readonly byId = new Map<string, ServedRequest>();

  constructor(private readonly capacity = DEFAULT_REMEMBERED_REQUESTS) {}

  remember(id: string, served: ServedRequest): void {
    // Re-inserted so a reused id counts as the newest.
    this.byId.delete(id);
    this.byId.set(id, served);
    if (this.byId.size > this.capacity) this.byId.delete(this.byId.keys().next().value!);
  }

  /** The request, forgotten from here on; undefined when unknown, too old or already rewarded. */
  take(id: string): ServedRequest | undefined {
    const served = this.byId.get(id);
    this.byId.delete(id);
    return served;
  }
}
