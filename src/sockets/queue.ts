/** Key slots a keyed queue starts with, and keeps when it empties. */
const KEYS_KEPT = 64;

/**
 * A first-in first-out queue over an array and a head index: `shift` is O(1) and the taken
 * slots are cut off in one `slice` once they are most of the array. A taken slot is
 * overwritten with `vacant` at once, so what was taken is never kept reachable by the queue
 * until the next compaction. Items are addressed from the head: `at(0)` is the oldest.
 *
 * A queue made `keyed` also keeps one number per item (the byte log keeps each chunk's offset
 * there), unboxed in a `Float64Array` beside the items: in an array shared with the code that
 * stores objects, V8 would box every number that is not a small integer, an allocation each.
 *
 * The byte log, the datagram log and every event stream's backlog are this queue.
 */
export class Queue<T> {
  private items: T[] = [];
  private head = 0;
  private keys: Float64Array;

  /** `vacant` fills taken slots; it must be a value that holds nothing (an empty buffer, a sentinel). */
  constructor(
    private readonly vacant: T,
    private readonly keyed = false,
  ) {
    this.keys = new Float64Array(keyed ? KEYS_KEPT : 0);
  }

  get length(): number {
    return this.items.length - this.head;
  }

  /** Adds an item at the tail; `key` is kept beside it in a keyed queue. */
  push(item: T, key = 0): void {
    const at = this.items.length;
    this.items.push(item);
    if (!this.keyed) return;
    if (at === this.keys.length) {
      const grown = new Float64Array(at * 2);
      grown.set(this.keys);
      this.keys = grown;
    }
    this.keys[at] = key;
  }

  /** The item `index` places from the head; `index` must be below `length`. */
  at(index: number): T {
    return this.items[this.head + index];
  }

  /** The key of the item `index` places from the head (keyed queues). */
  keyAt(index: number): number {
    return this.keys[this.head + index];
  }

  /** Replaces the item `index` places from the head, and its key (e.g. the unreleased tail of the oldest chunk and where it starts). */
  set(index: number, item: T, key = 0): void {
    this.items[this.head + index] = item;
    if (this.keyed) this.keys[this.head + index] = key;
  }

  /** Takes the oldest item; the queue must not be empty. */
  shift(): T {
    const items = this.items;
    const item = items[this.head];
    items[this.head] = this.vacant;
    if (++this.head === items.length) {
      this.clear();
    } else if (this.head > 1024 && this.head * 2 > items.length) {
      if (this.keyed) this.keys.copyWithin(0, this.head, items.length);
      this.items = items.slice(this.head);
      this.head = 0;
    }
    return item;
  }

  /** Takes the newest item; the queue must not be empty. */
  pop(): T {
    const item = this.items.pop() as T;
    if (this.items.length === this.head) this.clear();
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
    // The keys of a burst of many small items are not kept once they are gone.
    if (this.keys.length > KEYS_KEPT) this.keys = new Float64Array(KEYS_KEPT);
  }
}
