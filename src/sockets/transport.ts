import { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { Endpoint, toEndpoint } from './socket-types';

/**
 * What a connection carries its bytes over. The bytes go through `stream`, any `Duplex`; the
 * calls only a socket has go through the transport itself, so a connection does not care
 * whether it holds a `net.Socket` or, once TLS is started on it, a `tls.TLSSocket` over one.
 */
export interface Transport {
  readonly stream: Duplex;
  readonly local: Endpoint | null;
  readonly remote: Endpoint | null;
  setNoDelay(noDelay: boolean): void;
  setKeepAlive(enable: boolean, initialDelayMs: number): void;
  /** Calls `onIdle` after `timeoutMs` without traffic either way. */
  setIdleTimeout(timeoutMs: number, onIdle: () => void): void;
  /** Aborts the connection with RST. */
  reset(): void;
}

/** A plain TCP socket as a transport (a `tls.TLSSocket` is a `net.Socket` too). */
export function socketTransport(socket: Socket): Transport {
  return {
    stream: socket,
    local: toEndpoint(socket.localAddress, socket.localPort, socket.localFamily),
    remote: toEndpoint(socket.remoteAddress, socket.remotePort, socket.remoteFamily),
    setNoDelay: (noDelay) => socket.setNoDelay(noDelay),
    setKeepAlive: (enable, initialDelayMs) => socket.setKeepAlive(enable, initialDelayMs),
    setIdleTimeout: (timeoutMs, onIdle) => socket.setTimeout(timeoutMs, onIdle),
    // libuv cannot reset a socket whose FIN is still queued (the reset fails with EINVAL and the
    // socket never closes): that one is destroyed instead, the FIN already on its way.
    reset: () => (socket.writableEnded && !socket.writableFinished ? socket.destroy() : socket.resetAndDestroy()),
  };
}
