/** Hands a chunk on to the next stage (or, after the last, to where the bytes were going). */
export type Next = (chunk: Buffer) => void;

/**
 * One small step on a connection's byte path: framing, reply rules, faults. A stage sees every
 * chunk travelling in the directions it handles and passes on what it lets through (as it is,
 * changed, split, held back for later or not at all) by calling `next`.
 */
export interface Stage {
  readonly name: string;
  /** Bytes received from the peer, on their way to the receive mode (buffer, echo, discard). */
  received?(chunk: Buffer, next: Next): void;
  /** Bytes the service sends, on their way to the transport. */
  sent?(chunk: Buffer, next: Next): void;
}

/** The head of every chain: lets everything through, so there is always a place to splice after. */
const HEAD: Stage = { name: 'head' };

/**
 * A connection's stages in order, from the transport inwards for received bytes and outwards
 * for sent ones (Netty's `ChannelPipeline`, Toxiproxy's link of toxics). `receive` and `send`
 * are the entry points, rebuilt whenever a stage is added or removed, so a chain of nothing but
 * the head calls its sink directly: the byte path costs nothing until a stage plugs in.
 * Stages may be added and removed while bytes flow; a chunk already inside the chain finishes
 * its way through the stages it was given to.
 */
export class StageChain {
  private readonly stages: Stage[] = [HEAD];
  private receiveEntry: Next;
  private sendEntry: Next;

  constructor(
    private readonly receivedSink: Next,
    private readonly sentSink: Next,
  ) {
    this.receiveEntry = receivedSink;
    this.sendEntry = sentSink;
  }

  /** Where the transport hands received bytes in. */
  get receive(): Next {
    return this.receiveEntry;
  }

  /** Where bytes to send go in. */
  get send(): Next {
    return this.sendEntry;
  }

  /** Stage names from the transport inwards, the head first. */
  get names(): string[] {
    return this.stages.map((stage) => stage.name);
  }

  /** True while only the head is in the chain: sent bytes can take the direct path. */
  get isEmpty(): boolean {
    return this.stages.length === 1;
  }

  /** Adds `stage` right after the stage named `after` (the head when not given), nearer the transport than those after it. */
  add(stage: Stage, after = HEAD.name): void {
    const at = this.stages.findIndex((s) => s.name === after);
    if (at < 0) throw new RangeError(`no stage ${after} in the chain`);
    if (this.stages.some((s) => s.name === stage.name)) throw new RangeError(`a stage ${stage.name} is in the chain already`);
    this.stages.splice(at + 1, 0, stage);
    this.rebuild();
  }

  remove(name: string): void {
    const at = this.stages.findIndex((s) => s.name === name);
    if (at <= 0) throw new RangeError(`no stage ${name} to remove`);
    this.stages.splice(at, 1);
    this.rebuild();
  }

  private rebuild(): void {
    let receive = this.receivedSink;
    for (let i = this.stages.length - 1; i > 0; i--) receive = link(this.stages[i], 'received', receive);
    // Sent bytes travel the other way: the stage nearest the transport is the last they meet.
    let send = this.sentSink;
    for (let i = 1; i < this.stages.length; i++) send = link(this.stages[i], 'sent', send);
    this.receiveEntry = receive;
    this.sendEntry = send;
  }
}

function link(stage: Stage, direction: 'received' | 'sent', next: Next): Next {
  const handle = stage[direction];
  return handle ? (chunk) => handle.call(stage, chunk, next) : next;
}
