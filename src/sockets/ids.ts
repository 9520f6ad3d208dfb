import { randomBytes } from 'node:crypto';

/** What an id says the resource is: `tl_` listener, `tc_` connection, `us_` UDP socket, `tp_` TCP proxy, `up_` UDP proxy, `ft_` fault. */
export type IdPrefix = 'tl' | 'tc' | 'us' | 'tp' | 'up' | 'ft';

/** A node's id in a cluster: a letter and five base-36 digits, made at start. */
export const NODE_ID = /^[a-z][a-z0-9]{5}$/;

/** A clustered id: kind prefix, owner node, creation sequence in base 36, 10 random hex digits. */
const CLUSTERED_ID = /^([a-z]{1,8})_([a-z][a-z0-9]{5})_([0-9a-z]+?)([0-9a-f]{10})$/;

/** What a clustered id tells: the node that owns the resource, and its creation sequence there. */
export interface IdOwner {
  node: string;
  seq: number;
}

/**
 * Ids carry the creation sequence (so they never repeat, and cursors can point into it) and
 * random bits (so they are not guessable): `tc_` + the sequence in base 36 + 10 hex digits.
 * In a cluster they also carry the node that made them (`tc_<node>_…`), so any node finds a
 * resource's owner without asking anyone.
 */
export class ResourceIds {
  /**
   * The node every id of this process names, set once at start when clustered. Process-wide
   * because every registry of resources mints ids here, including ones the cluster wiring
   * never sees; null (single node) keeps the ids without a node.
   */
  private static node: string | null = null;

  private seq = 0;
  private readonly suffixes = new RandomHex(5);

  /** Sets the node every id names from now on (null: none, as on a single node). */
  static stampNode(node: string | null): void {
    if (node !== null && !NODE_ID.test(node)) throw new RangeError(`"${node}" is not a node id`);
    ResourceIds.node = node;
  }

  /** The owner node and sequence of a clustered id; null for any other string. */
  static ownerOf(id: string): IdOwner | null {
    const match = CLUSTERED_ID.exec(id);
    return match ? { node: match[2], seq: parseInt(match[3], 36) } : null;
  }

  next(prefix: IdPrefix): { id: string; seq: number } {
    const seq = ++this.seq;
    const node = ResourceIds.node === null ? '' : `${ResourceIds.node}_`;
    return { id: `${prefix}_${node}${seq.toString(36).padStart(6, '0')}${this.suffixes.next()}`, seq };
  }
}

/**
 * Random hex strings of `bytes` bytes each, cut from a block of random bytes drawn at once: an
 * id per accepted connection made a `randomBytes` call per accept (as `randomUUID` caches its
 * entropy for the same reason).
 */
class RandomHex {
  private static readonly BLOCK_BYTES = 4096;
  private block = Buffer.alloc(0);
  private at = 0;

  constructor(private readonly bytes: number) {}

  next(): string {
    if (this.at + this.bytes > this.block.length) {
      this.block = randomBytes(RandomHex.BLOCK_BYTES);
      this.at = 0;
    }
    this.at += this.bytes;
    return this.block.toString('hex', this.at - this.bytes, this.at);
  }
}
