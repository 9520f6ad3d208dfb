/**
 * A first-in first-out queue over an array and a head index: `shift` is O(1) and the taken
 * slots are cut off in one `slice` once they are most of the array. A taken slot is
 * overwritten with `vacant` at once, so what was taken is never kept reachable by the queue
 * until the next compaction. Items are addressed from the head: `at(0)` is the oldest.
 *
 * The byte log, the datagram log and every event stream's backlog are this queue.
 */
export class Queue<T> {
  private items: T[] = [];
  private head = 0;

  /** `vacant` fills taken slots; it must be a value that holds nothing (an empty buffer, a sentinel). */
  constructor(private readonly vacant: T) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  /** The item `index` places from the head; `index` must be below `length`. */
  at(index: number): T {
    return this.items[this.head + index];
  }

  /** Replaces the item `index` places from the head (e.g. the unreleased tail of the oldest chunk). */
  set(index: number, item: T): void {
    this.items[this.head + index] = item;
  }

  /** Takes the oldest item; the queue must not be empty. */
  shift(): T {
    const item = this.items[this.head];
    this.items[this.head++] = this.vacant;
    this.compact();
    return item;
  }

  clear(): void {
    this.items = [];
    this.head = 0;
  }

  private compact(): void {
    if (this.head === this.items.length) {
      this.clear();
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}
