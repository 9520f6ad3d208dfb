import { X509Certificate } from 'node:crypto';
import { Duplex } from 'node:stream';
import { PeerCertificate, SecureContext, SecureVersion, TLSSocket, createSecureContext } from 'node:tls';
import { Transport } from '../transport';
import { DEFAULT_LEAF_NAMES, LeafMinter, MintedLeaf, TlsCredentials } from './leaf-minter';
import { TlsError } from './tls-error';

export const TLS_STATES = ['none', 'handshaking', 'established', 'failed'] as const;
export type TlsState = (typeof TLS_STATES)[number];

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const satisfies readonly SecureVersion[];
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** What a TLS listener presents and asks of its clients. */
export interface TlsServerOptions {
  /** The stored certificate presented to every client; null: leaves the instance CA mints per SNI name. */
  certificateId: string | null;
  credentials: TlsCredentials | null;
  /** ALPN protocols offered, preferred first; empty: no ALPN. */
  alpn: readonly string[];
  minVersion: TlsVersion;
  maxVersion: TlsVersion;
  /** Ask for a client certificate; with `clientCa`, a client without a valid one fails the handshake. */
  requestClientCert: boolean;
  /** PEM bundle the client certificates must chain to; null with `requestClientCert`: the instance CA. */
  clientCa: string | null;
  /** A handshake not done by then fails, so a silent client cannot hold a connection in `handshaking`. */
  handshakeTimeoutMs: number;
}

export interface TlsPeerCertificate {
  subject: string;
  issuer: string;
  subjectAltName: string | null;
  validFrom: string;
  validTo: string;
  serialNumber: string;
  fingerprint256: string;
}

/** What a connection shows of its TLS session. */
export interface TlsInfo {
  state: TlsState;
  protocol: string | null;
  cipher: { name: string; standardName: string } | null;
  alpnProtocol: string | null;
  servername: string | null;
  sessionReused: boolean;
  authorized: boolean;
  authorizationError: string | null;
  peerCertificate: TlsPeerCertificate | null;
  handshakeMs: number | null;
  /** Byte-log offsets (received) and bytes sent at which TLS started: 0 for implicit TLS. */
  startOffsets: { in: number; out: number };
  /** OpenSSL's reason, when the handshake failed. */
  failure: string | null;
}

/** Where TLS started: the byte-log offset of the first decrypted byte, and the bytes sent in clear text before. */
/** What a connection without TLS shows; a session starts from it. */
export const NO_TLS: Readonly<TlsInfo> = Object.freeze({
  state: 'none',
  protocol: null,
  cipher: null,
  alpnProtocol: null,
  servername: null,
  sessionReused: false,
  authorized: false,
  authorizationError: null,
  peerCertificate: null,
  handshakeMs: null,
  startOffsets: Object.freeze({ in: 0, out: 0 }),
  failure: null,
});

export interface StartOffsets {
  in: number;
  out: number;
}

const IMPLICIT: StartOffsets = { in: 0, out: 0 };

export interface TlsSessionSetup {
  /** The handshake itself verified the peer's certificate (a server requiring one). */
  peerVerifiedByHandshake: boolean;
  /**
   * `secure` on the server side; `secureConnect` on the client's, which Node emits only after
   * it checked the server's certificate and name (and sets `authorized`).
   */
  doneEvent: 'secure' | 'secureConnect';
  startOffsets: StartOffsets;
  handshakeTimeoutMs: number;
}

export type TlsOutcome = { established: true } | { established: false; reason: string; error?: Error };

/**
 * The server side of TLS for one listener: the contexts it presents (a stored certificate, or a
 * leaf minted per SNI name, each with the listener's versions and client-CA), built once per leaf.
 */
export class TlsServer {
  /** Per minted leaf (the minter caches and renews them), its context with this listener's settings. */
  private readonly contexts = new WeakMap<MintedLeaf, SecureContext>();
  private readonly defaultContext: SecureContext;

  private constructor(
    readonly options: TlsServerOptions,
    private readonly minter: LeafMinter,
    private readonly caPem: string,
    defaultCredentials: TlsCredentials,
  ) {
    this.defaultContext = this.contextOf(defaultCredentials);
  }

  /** Builds the listener's contexts up front, so a bad setting fails its creation, not each handshake. */
  static async create(options: TlsServerOptions, minter: LeafMinter, caPem: string): Promise<TlsServer> {
    if (options.clientCa !== null) assertCertificateBundle(options.clientCa, 'tls.clientCa');
    const credentials = options.credentials ?? (await minter.mint(DEFAULT_LEAF_NAMES)).credentials;
    return new TlsServer(options, minter, caPem, credentials);
  }

  /**
   * Starts the server handshake over `stream` (an accepted socket, or the plain side of a
   * connection upgrading with STARTTLS), `base` carrying the socket-only calls; the session
   * reports how it ends.
   */
  accept(stream: Duplex, base: Transport, startOffsets: StartOffsets = IMPLICIT): TlsSession {
    const { options } = this;
    const tlsSocket = new TLSSocket(stream, {
      isServer: true,
      secureContext: this.defaultContext,
      SNICallback: options.credentials ? undefined : this.sniCallback,
      ALPNProtocols: options.alpn.length > 0 ? [...options.alpn] : undefined,
      requestCert: options.requestClientCert,
      rejectUnauthorized: options.requestClientCert,
    });
    // With a client certificate asked for, OpenSSL refuses the handshake unless one verified.
    return new TlsSession(tlsSocket, base, {
      peerVerifiedByHandshake: options.requestClientCert,
      doneEvent: 'secure',
      startOffsets,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
    });
  }

  private readonly sniCallback = (servername: string, callback: (err: Error | null, context?: SecureContext) => void): void => {
    this.minter.mint(servername).then(
      (leaf) => {
        let context = this.contexts.get(leaf);
        if (!context) {
          context = this.contextOf(leaf.credentials);
          this.contexts.set(leaf, context);
        }
        callback(null, context);
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  };

  private contextOf(credentials: TlsCredentials): SecureContext {
    const { minVersion, maxVersion, requestClientCert, clientCa } = this.options;
    const ca = requestClientCert ? (clientCa ?? this.caPem) : undefined;
    return createSecureContext({ key: credentials.key, cert: credentials.cert, minVersion, maxVersion, ca });
  }
}

/**
 * One connection's TLS: the `TLSSocket` its bytes travel through, the handshake's outcome, and
 * what the session negotiated. The socket-only calls (no-delay, keep-alive, reset) go to the
 * TCP socket underneath.
 */
export class TlsSession {
  readonly transport: Transport;
  /** Settles once, when the handshake succeeds or fails. */
  readonly settled: Promise<TlsOutcome>;
  private readonly startedAt = performance.now();
  private current: TlsInfo = { ...NO_TLS, state: 'handshaking' };

  private readonly peerVerifiedByHandshake: boolean;

  constructor(
    readonly socket: TLSSocket,
    base: Transport,
    setup: TlsSessionSetup,
  ) {
    this.transport = tlsTransport(socket, base);
    this.peerVerifiedByHandshake = setup.peerVerifiedByHandshake;
    this.current.startOffsets = { ...setup.startOffsets };
    const { doneEvent } = setup;
    const timer = setTimeout(() => socket.destroy(new Error(`no TLS handshake within ${setup.handshakeTimeoutMs} ms`)), setup.handshakeTimeoutMs);
    this.settled = new Promise<TlsOutcome>((resolve) => {
      const onSecure = (): void => {
        socket.off('error', onError);
        socket.off('close', onClose);
        this.established();
        resolve({ established: true });
      };
      const onError = (err: Error): void => {
        socket.off(doneEvent, onSecure);
        socket.off('close', onClose);
        this.failed(err.message);
        resolve({ established: false, reason: this.current.failure ?? err.message, error: err });
      };
      const onClose = (): void => {
        socket.off(doneEvent, onSecure);
        socket.off('error', onError);
        this.failed('the peer closed the connection during the handshake');
        resolve({ established: false, reason: this.current.failure ?? '' });
      };
      socket.once(doneEvent, onSecure);
      socket.once('error', onError);
      socket.once('close', onClose);
    }).finally(() => clearTimeout(timer));
  }

  get info(): TlsInfo {
    return this.current;
  }

  private established(): void {
    const { socket } = this;
    const cipher = socket.getCipher();
    const peer = socket.getPeerCertificate();
    const servername = (socket as TLSSocket & { servername?: string | false }).servername;
    this.current = {
      ...this.current,
      state: 'established',
      protocol: socket.getProtocol(),
      cipher: { name: cipher.name, standardName: cipher.standardName },
      alpnProtocol: typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : null,
      servername: typeof servername === 'string' ? servername : null,
      sessionReused: socket.isSessionReused(),
      authorized: socket.authorized || (this.peerVerifiedByHandshake && peer !== null && Object.keys(peer).length > 0),
      authorizationError: socket.authorizationError ? String(socket.authorizationError) : null,
      peerCertificate: peer && Object.keys(peer).length > 0 ? toPeerCertificate(peer) : null,
      handshakeMs: Math.round(performance.now() - this.startedAt),
    };
  }

  private failed(reason: string): void {
    this.current = { ...this.current, state: 'failed', failure: reason, handshakeMs: Math.round(performance.now() - this.startedAt) };
  }
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/** Every certificate of a PEM bundle parses, and there is at least one (OpenSSL skips what it cannot read, silently). */
export function assertCertificateBundle(pem: string, field: string): void {
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) throw new TlsError('CERTIFICATE_INVALID', `${field} holds no PEM certificate`, { field });
  for (const block of blocks) {
    try {
      new X509Certificate(block);
    } catch (err) {
      throw new TlsError('CERTIFICATE_INVALID', `${field} holds a certificate that does not parse: ${(err as Error).message}`, { field });
    }
  }
}

function toPeerCertificate(peer: PeerCertificate): TlsPeerCertificate {
  return {
    subject: distinguishedName(peer.subject),
    issuer: distinguishedName(peer.issuer),
    subjectAltName: peer.subjectaltname ?? null,
    validFrom: new Date(peer.valid_from).toISOString(),
    validTo: new Date(peer.valid_to).toISOString(),
    serialNumber: peer.serialNumber.toUpperCase(),
    fingerprint256: peer.fingerprint256,
  };
}

/** `CN=…, O=…` from Node's parsed subject, in the order Node gives. */
function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (!name) return '';
  return Object.entries(name)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : String(value)}`)
    .join(', ');
}

/** The TLS stream for the bytes; the socket-only calls go to the plain transport underneath. */
function tlsTransport(socket: TLSSocket, base: Transport): Transport {
  return {
    stream: socket,
    local: base.local,
    remote: base.remote,
    setNoDelay: (noDelay) => base.setNoDelay(noDelay),
    setKeepAlive: (enable, initialDelayMs) => base.setKeepAlive(enable, initialDelayMs),
    setIdleTimeout: (timeoutMs, onIdle) => base.setIdleTimeout(timeoutMs, onIdle),
    reset: () => {
      base.reset();
      socket.destroy();
    },
  };
}
