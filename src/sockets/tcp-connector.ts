import { lookup } from 'node:dns/promises';
import { Socket, connect, isIP } from 'node:net';
import { SocketError, fromSystemError } from './socket-error';

export interface TcpConnectTarget {
  host: string;
  port: number;
  /** 4 or 6 restricts name resolution to that family; 0 takes either. */
  family: 0 | 4 | 6;
  timeoutMs: number;
}

/** Resolves a host name to every address it has (all families unless restricted). */
export type HostResolver = (host: string, family: 0 | 4 | 6) => Promise<string[]>;

/**
 * Vets a destination before anything is sent to it: throws (POLICY_DENIED) unless every
 * address `host` stands for may be reached on `port`.
 */
export type DestinationGuard = (host: string, addresses: readonly string[], port: number) => void;

export const systemResolver: HostResolver = async (host, family) => {
  const records = await lookup(host, { all: true, family, verbatim: true });
  return records.map((record) => record.address);
};

/**
 * Resolves once, vets every address the name has, then dials the exact address that was
 * vetted (no second lookup inside `net.connect`), racing `connect` against `error` and the
 * timeout with a single cleanup.
 */
export async function openTcpSocket(target: TcpConnectTarget, resolve: HostResolver, vet: DestinationGuard): Promise<Socket> {
  const deadline = Date.now() + target.timeoutMs;
  const addresses = isIP(target.host) ? [target.host] : await resolveHostAddresses(target.host, target.family, resolve);
  vet(target.host, addresses, target.port);
  const address = addresses[0];
  const remaining = deadline - Date.now();
  if (remaining <= 0) throw connectTimeout(target);
  return new Promise((resolvePromise, reject) => {
    const socket = connect({ host: address, port: target.port, allowHalfOpen: true });
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(connectTimeout(target));
    }, remaining);
    const onError = (err: Error): void => {
      cleanup();
      socket.destroy();
      reject(fromSystemError(err, `connect to ${target.host}:${target.port}`));
    };
    const onConnect = (): void => {
      cleanup();
      resolvePromise(socket);
    };
    const cleanup = (): void => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.off('connect', onConnect);
    };
    socket.once('error', onError);
    socket.once('connect', onConnect);
  });
}

/** Every address of a host name (at least one), or NAME_NOT_RESOLVED; used by TCP connects and UDP sends alike. */
export async function resolveHostAddresses(host: string, family: 0 | 4 | 6, resolve: HostResolver): Promise<string[]> {
  let addresses: string[];
  try {
    addresses = await resolve(host, family);
  } catch (err) {
    throw fromSystemError(err, `resolve ${host}`);
  }
  if (addresses.length === 0) {
    throw new SocketError('NAME_NOT_RESOLVED', `resolve ${host} failed: no addresses`, { errno: 'ENOTFOUND' });
  }
  return addresses;
}

function connectTimeout(target: TcpConnectTarget): SocketError {
  return new SocketError('CONNECT_TIMEOUT', `connect to ${target.host}:${target.port} timed out after ${target.timeoutMs} ms`, {
    errno: 'ETIMEDOUT',
    timeoutMs: target.timeoutMs,
  });
}
