import { once } from 'node:events';
import { Socket, connect } from 'node:net';
import { Destinations } from './destination';
import { SocketError, fromSystemError } from './socket-error';

export interface TcpConnectTarget {
  host: string;
  port: number;
  /** 4 or 6 restricts name resolution to that family; 0 takes either. */
  family: 0 | 4 | 6;
  timeoutMs: number;
}

/**
 * Resolves and vets the destination once, then dials the exact address that was vetted (no
 * second lookup inside `net.connect`), waiting for `connect` until an `error` or the rest of
 * the timeout, whichever comes first.
 */
export async function openTcpSocket(target: TcpConnectTarget, destinations: Destinations): Promise<Socket> {
  const deadline = Date.now() + target.timeoutMs;
  const address = await destinations.forConnect(target.host, target.port, target.family);
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw connectTimeout(target);
  const socket = connect({ host: address, port: target.port, allowHalfOpen: true });
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), remaining);
  try {
    await once(socket, 'connect', { signal: timeout.signal });
    return socket;
  } catch (err) {
    socket.destroy();
    throw timeout.signal.aborted ? connectTimeout(target) : fromSystemError(err, `connect to ${target.host}:${target.port}`);
  } finally {
    clearTimeout(timer);
  }
}

function connectTimeout(target: TcpConnectTarget): SocketError {
  return new SocketError('CONNECT_TIMEOUT', `connect to ${target.host}:${target.port} timed out after ${target.timeoutMs} ms`, {
    errno: 'ETIMEDOUT',
    timeoutMs: target.timeoutMs,
  });
}
