// The recent predict requests of a model by request id, with the version (and traffic arm) that answered,
// so :feedback can credit the reward to them. Bounded: the oldest ids are forgotten first, and an id is
// forgotten once rewarded (a second reward for one request would count it twice).
//
// This runs for every predict request, so it allocates nothing per request: a ring of typed arrays holds
// what each remembered request needs (two 32-bit hashes of its id, the version, the arm's index), and an
// open-addressing table in an Int32Array (linear probing, deletion by backward shift) finds the ring slot
// of the first hash. Keeping the ids themselves (100k strings plus an object each) made the garbage
// collector cost as much as the rest of a predict request; a Map of 100k entries churned by a delete and a
// set per request cost ~3× the table. Two ids with the same first hash (a few pairs among 100k) cannot both be remembered:
// the newer replaces the older, whose feedback then gets "unknown or too old"; the second hash makes a
// wrong match of an unknown id practically impossible (one in 2^62).

export interface ServedRequest {
  version: number;
  /** The traffic arm that picked the version; undefined when the request named its version or label. */
  arm?: string;
}

export const DEFAULT_REMEMBERED_REQUESTS = 100_000;

const NO_ARM = -1;
const EMPTY = -1;

/** FNV-1a over the UTF-16 code units, from two offset bases: two independent-enough 32-bit hashes. */
function fnv1a(s: string, basis: number): number {
  let h = basis;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h;
}

/** The map key of an id: 30 bits, a small integer V8 stores inline. */
const keyOf = (id: string) => fnv1a(id, 0x811c9dc5) & 0x3fffffff;
/** The second hash, kept in the ring to tell a remembered id from another with the same key. */
const checkOf = (id: string) => fnv1a(id, 0x050c5d1f);

export class ServedRequests {
  /** Ring slot + 1 (0: empty) at the position of its key; a power-of-two size at least twice the capacity. */
  private readonly table: Int32Array;
  private readonly mask: number;
  private readonly keys: Int32Array;
  private readonly checks: Int32Array;
  private readonly versions: Float64Array;
  private readonly armIds: Int32Array;
  private readonly arms: string[] = [];
  private readonly armIndex = new Map<string, number>();
  private next = 0;

  constructor(capacity = DEFAULT_REMEMBERED_REQUESTS) {
    let size = 8;
    while (size < 2 * capacity) size *= 2;
    this.table = new Int32Array(size);
    this.mask = size - 1;
    this.keys = new Int32Array(capacity).fill(EMPTY);
    this.checks = new Int32Array(capacity);
    this.versions = new Float64Array(capacity);
    this.armIds = new Int32Array(capacity);
  }

  remember(id: string, served: ServedRequest): void {
    const key = keyOf(id);
    const slot = this.next;
    this.next = (slot + 1) % this.keys.length;
    // The oldest request goes. A slot's key is EMPTY once taken or remembered again in a newer slot, so a
    // key still here is one the table points to this slot.
    const old = this.keys[slot];
    if (old !== EMPTY) this.removeAt(this.find(old));
    const at = this.find(key);
    if (at >= 0) {
      // The same first hash (the same id, or a collision) is remembered in its newer slot only.
      this.keys[this.table[at] - 1] = EMPTY;
      this.table[at] = slot + 1;
    } else {
      let i = key & this.mask;
      while (this.table[i] !== 0) i = (i + 1) & this.mask;
      this.table[i] = slot + 1;
    }
    this.keys[slot] = key;
    this.checks[slot] = checkOf(id);
    this.versions[slot] = served.version;
    this.armIds[slot] = served.arm === undefined ? NO_ARM : this.armId(served.arm);
  }

  /** The request, forgotten from here on; undefined when unknown, too old or already rewarded. */
  take(id: string): ServedRequest | undefined {
    const at = this.find(keyOf(id));
    if (at < 0) return undefined;
    const slot = this.table[at] - 1;
    if (this.checks[slot] !== checkOf(id)) return undefined;
    this.removeAt(at);
    this.keys[slot] = EMPTY;
    const arm = this.armIds[slot];
    return arm === NO_ARM ? { version: this.versions[slot] } : { version: this.versions[slot], arm: this.arms[arm] };
  }

  /** The table position holding `key`, or -1. */
  private find(key: number): number {
    for (let i = key & this.mask; ; i = (i + 1) & this.mask) {
      const entry = this.table[i];
      if (entry === 0) return -1;
      if (this.keys[entry - 1] === key) return i;
    }
  }

  /** Empties a table position, moving back later entries of its probe run so that every key stays findable. */
  private removeAt(at: number): void {
    let hole = at;
    for (let j = (at + 1) & this.mask; this.table[j] !== 0; j = (j + 1) & this.mask) {
      const home = this.keys[this.table[j] - 1] & this.mask;
      // The entry at j may fill the hole unless its home lies cyclically in (hole, j].
      const homeAfterHole = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!homeAfterHole) {
        this.table[hole] = this.table[j];
        hole = j;
      }
    }
    this.table[hole] = 0;
  }

  /** A traffic arm's index (a model has a handful of arms). */
  private armId(arm: string): number {
    let i = this.armIndex.get(arm);
    if (i === undefined) {
      i = this.arms.push(arm) - 1;
      this.armIndex.set(arm, i);
    }
    return i;
  }
}
