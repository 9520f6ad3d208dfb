/**
 * What the bench asks of the baseline process (which also plays the streaming peer, so the peer
 * does not share the bench's event loop with the HTTP client) over IPC. Each command answers once; the
 * `wait…` commands answer when their condition is met, so the bench times the whole transfer.
 */
export interface BaselineCommands {
  openTcpSink: { args: Record<string, never>; result: { port: number } };
  waitTcpSink: { args: { bytes: number }; result: { bytes: number } };
  closeTcpSink: { args: Record<string, never>; result: Record<string, never> };
  openTcpHolder: { args: { backlog: number }; result: { port: number } };
  waitAccepted: { args: { count: number }; result: { accepted: number } };
  closeTcpHolder: { args: Record<string, never>; result: Record<string, never> };
  openUdpReceiver: { args: { recvBufferSize: number }; result: { port: number } };
  udpReceived: { args: Record<string, never>; result: { received: number } };
  closeUdpReceiver: { args: Record<string, never>; result: Record<string, never> };
  streamInto: { args: { port: number; bytes: number }; result: { bytes: number } };
  listenCloseLoop: { args: { durationMs: number }; result: { operations: number; elapsedMs: number } };
  /** A bare `tls.createServer` echo server (`socket.pipe(socket)`) with a fresh self-signed EC P-256 certificate for `localhost`; answers its port and the certificate (PEM) to trust. */
  openTlsEcho: { args: Record<string, never>; result: { port: number; certificate: string } };
  closeTlsEcho: { args: Record<string, never>; result: Record<string, never> };
  /** A bare Node TCP proxy to `upstreamPort`: each client piped to a new connection and back (`socket.pipe()` both ways). */
  openPipeProxy: { args: { upstreamPort: number }; result: { port: number } };
  closePipeProxy: { args: Record<string, never>; result: Record<string, never> };
  /** A bare Node UDP relay to `upstreamPort`: a dgram socket of its own per client address, replies sent back to that client. */
  openUdpRelay: { args: { upstreamPort: number }; result: { port: number } };
  closeUdpRelay: { args: Record<string, never>; result: Record<string, never> };
  /**
   * A bare `net` server answering the rules scenario's key-value lines (`GET <key>` → `VALUE <key> 42`) as the rules do; answers its port.
   * `engine`: V8's regex (default), or re2js as the rules run it. `keep`: the floor (`floor-line-server.ts`), keeping per
   * chunk and frame what issue 18 requires (byte and frame logs, events in a ring, rule counts) and releasing each answered frame.
   * Each call opens one more; `closeLineServer` closes them all.
   */
  openLineServer: { args: { engine?: 'v8' | 're2js'; keep?: boolean }; result: { port: number } };
  closeLineServer: { args: Record<string, never>; result: Record<string, never> };
}

export type BaselineCommand = keyof BaselineCommands;

export interface BaselineRequest<K extends BaselineCommand = BaselineCommand> {
  id: number;
  command: K;
  args: BaselineCommands[K]['args'];
}

export type BaselineReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string } | { ready: true; httpPort: number };
