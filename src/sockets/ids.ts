import { randomBytes } from 'node:crypto';

/** What an id says the resource is: `tl_` listener, `tc_` connection, `us_` UDP socket, `tp_` TCP proxy, `up_` UDP proxy, `ft_` fault. */
export type IdPrefix = 'tl' | 'tc' | 'us' | 'tp' | 'up' | 'ft';

/**
 * Ids carry the creation sequence (so they never repeat, and cursors can point into it) and
 * random bits (so they are not guessable): `tc_` + the sequence in base 36 + 10 hex digits.
 */
export class ResourceIds {
  private seq = 0;
  private readonly suffixes = new RandomHex(5);

  next(prefix: IdPrefix): { id: string; seq: number } {
    const seq = ++this.seq;
    return { id: `${prefix}_${seq.toString(36).padStart(6, '0')}${this.suffixes.next()}`, seq };
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
