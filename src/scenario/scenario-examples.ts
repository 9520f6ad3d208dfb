import { ExampleObject } from '@nestjs/swagger';
import { DNS_RULES, KEY_VALUE_RULES, SMTP_RULES } from '../rules/rule-examples';

/** A scenario of fake servers on free ports: SMTP with STARTTLS, a key-value line server, a DNS server. */
export const FAKE_SERVERS_SCENARIO = {
  tcpListeners: [
    { name: 'smtp', host: '127.0.0.1', port: 0, framing: { type: 'lines' }, tls: { mode: 'starttls' }, rules: SMTP_RULES, labels: { demo: 'scenario' } },
    { name: 'kv', host: '127.0.0.1', port: 0, framing: { type: 'lines' }, rules: KEY_VALUE_RULES, labels: { demo: 'scenario' } },
  ],
  udpSockets: [{ name: 'dns', type: 'udp4', port: 0, rules: DNS_RULES, labels: { demo: 'scenario' } }],
};

export const SCENARIO_EXAMPLES: Record<string, ExampleObject> = {
  fakeServers: { summary: 'SMTP (with STARTTLS), a key-value line server and a DNS server, on free ports', value: FAKE_SERVERS_SCENARIO },
  empty: { summary: 'Nothing: closes every resource a scenario opened', value: {} },
};

/** mountebank’s documented TCP examples (mbtest.org), with port 0 so they run anywhere. */
export const MOUNTEBANK_EXAMPLES: Record<string, ExampleObject> = {
  binaryContains: {
    summary: 'Getting started: a binary RPC stub (contains “sayHello”, answers “hello, world!”)',
    value: { protocol: 'tcp', port: 0, mode: 'binary', stubs: [{ responses: [{ is: { data: 'aGVsbG8sIHdvcmxkIQ==' } }], predicates: [{ contains: { data: 'c2F5SGVsbG8=' } }] }] },
  },
  textMatches: {
    summary: 'A text imposter with a case-sensitive regex and a case-insensitive one',
    value: {
      protocol: 'tcp',
      port: 0,
      mode: 'text',
      stubs: [
        { responses: [{ is: { data: 'first response' } }], predicates: [{ matches: { data: '^first\\Wsecond' }, caseSensitive: true }] },
        { responses: [{ is: { data: 'second response' } }], predicates: [{ matches: { data: 'second\\s+request' } }] },
      ],
    },
  },
  reset: { summary: 'The CONNECTION_RESET_BY_PEER fault', value: { protocol: 'tcp', port: 0, mode: 'text', stubs: [{ responses: [{ fault: 'CONNECTION_RESET_BY_PEER' }] }] } },
};
