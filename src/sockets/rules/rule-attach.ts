import { SocketEventBus } from '../socket-events';
import { TcpConnection } from '../tcp-connection';
import { beginTlsClient } from '../tls/tls-client';
import { TlsError } from '../tls/tls-error';
import { StartOffsets, TlsOutcome, TlsSession } from '../tls/tls-session';
import { Transport } from '../transport';
import { Duplex } from 'node:stream';
import { UdpSocket } from '../udp-socket';
import { ConnectionRules } from './connection-rules';
import { DatagramRules } from './datagram-rules';
import { RuleSet } from './rule-set';

/** STARTTLS as the registry runs it: the outcome published as for a call of the API. */
export type StartTls = (
  connection: TcpConnection,
  inOffset: number | undefined,
  begin: (stream: Duplex, base: Transport, startOffsets: StartOffsets) => TlsSession,
) => Promise<{ session: TlsSession; outcome: TlsOutcome }>;

/**
 * Gives a connection `set` (null takes its rules away): a connection that has rules switches
 * to the new set at its next frame, keeping its state; one that has none starts with the set's
 * initial state.
 */
export function setConnectionRules(connection: TcpConnection, set: RuleSet | null, events: SocketEventBus, startTls: StartTls): void {
  if (set === null) return connection.setRules(null);
  if (connection.rules) return connection.rules.replace(set);
  const rules = new ConnectionRules(connection, set, {
    matched: (rule, trigger, index, at) =>
      events.publish(connection, 'rule.matched', { ruleId: rule.id, trigger, index, state: connection.rules?.state ?? null }, undefined, at),
    startTls: async (role) => {
      const tls = connection.rules?.set.tls;
      if (role === 'server') {
        const server = tls?.server;
        if (!server) throw new TlsError('TLS_UPGRADE_REFUSED', `connection ${connection.id}: its rules were given no TLS server settings`);
        await startTls(connection, undefined, (stream, base, offsets) => server.accept(stream, base, offsets));
        return;
      }
      const client = tls?.client;
      if (!client) throw new TlsError('TLS_UPGRADE_REFUSED', `connection ${connection.id}: its rules were given no TLS client settings`);
      const host = client.servername ?? connection.remote?.address ?? '';
      await startTls(connection, undefined, (stream, base, offsets) => beginTlsClient(stream, base, host, client, offsets));
    },
  });
  connection.setRules(rules);
}

/** Gives a UDP socket `set` (null takes its rules away); replies go back to each sender through the socket's own send. */
export function setDatagramRules(socket: UdpSocket, set: RuleSet | null, events: SocketEventBus): void {
  if (set === null) return socket.setRules(null);
  if (socket.rules) return socket.rules.replace(set);
  const rules = new DatagramRules(set, {
    matched: (rule, seq) => events.publish(socket, 'rule.matched', { ruleId: rule.id, trigger: 'datagram', index: seq, state: socket.rules?.state ?? null }),
    send: (bytes, to, sender) => socket.send(bytes, to ?? (socket.remote ? {} : { host: sender.address, port: sender.port })),
  });
  socket.setRules(rules);
}
