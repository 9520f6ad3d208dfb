/**
 * A bare L4 pipe for the cluster scenario: a `net` server that pipes each client connection to
 * one node byte for byte, with no HTTP parsing at all. What a call costs through it is the floor
 * of any forward on this machine: one more process, and one more write and read each way.
 * `node dist-bench/bare-pipe.js <target origin> <host> <port>`; prints `ready`.
 */
import { connect, createServer } from 'node:net';

const [target, host, port] = process.argv.slice(2);
const { hostname, port: targetPort } = new URL(target);
const server = createServer((client) => {
  const upstream = connect({ host: hostname, port: Number(targetPort), noDelay: true });
  client.setNoDelay(true);
  client.on('error', () => upstream.destroy());
  upstream.on('error', () => client.destroy());
  client.pipe(upstream).pipe(client);
});
server.listen(Number(port), host, () => console.log('ready'));
