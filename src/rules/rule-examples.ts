import { ExampleObject } from '@nestjs/swagger';

/**
 * An SMTP server made of rules, for a connection framed as `lines`: a greeting, EHLO offering
 * STARTTLS, MAIL, RCPT, DATA and the message (kept for reads), QUIT. The `data` state comes
 * first, so a body line that looks like a command is not taken for one.
 */
export const SMTP_RULES = {
  initialState: 'command',
  rules: [
    { id: 'greeting', on: 'connect', then: [{ send: '220 smtp.example.test ESMTP sockplane\r\n' }] },
    { id: 'end-of-data', match: { equals: '.', state: 'data' }, then: [{ send: '250 2.0.0 OK: queued\r\n' }, { setState: 'command' }] },
    { id: 'body', match: { state: 'data' }, then: [{ keep: true }] },
    { id: 'ehlo', match: { regex: '^(?i:EHLO|HELO) (\\S+)' }, then: [{ send: '250-smtp.example.test greets ${1}\r\n250-STARTTLS\r\n250 8BITMIME\r\n' }] },
    { id: 'starttls', match: { equals: 'STARTTLS', ignoreCase: true }, then: [{ send: '220 2.0.0 Ready to start TLS\r\n' }, { startTls: 'server' }] },
    { id: 'mail', match: { startsWith: 'MAIL FROM:', ignoreCase: true }, then: [{ send: '250 2.1.0 OK\r\n' }] },
    { id: 'rcpt', match: { startsWith: 'RCPT TO:', ignoreCase: true }, then: [{ send: '250 2.1.5 OK\r\n' }] },
    { id: 'data', match: { equals: 'DATA', ignoreCase: true }, then: [{ send: '354 End data with <CR><LF>.<CR><LF>\r\n' }, { setState: 'data' }] },
    { id: 'quit', match: { equals: 'QUIT', ignoreCase: true }, then: [{ send: '221 2.0.0 Bye\r\n' }, { close: 'fin' }] },
    { id: 'other', then: [{ send: '250 2.0.0 OK\r\n' }] },
  ],
};

/** A line-protocol key-value server, for a connection framed as `lines`: every key holds `42`. */
export const KEY_VALUE_RULES = {
  rules: [
    { id: 'ping', match: { equals: 'PING' }, then: [{ send: 'PONG', frame: true }] },
    { id: 'get', match: { regex: '^GET (?P<key>\\w+)$' }, then: [{ send: 'VALUE ${key} 42', frame: true }] },
    { id: 'set', match: { startsWith: 'SET ' }, then: [{ send: 'OK', frame: true }] },
    { id: 'quit', match: { equals: 'QUIT' }, then: [{ send: 'BYE', frame: true }, { close: 'fin' }] },
    { id: 'unknown', then: [{ send: 'ERR unknown command', frame: true }] },
  ],
};

/** Echo by rule: each frame (or chunk) goes back as it came, as the tutorial’s server does. */
export const ECHO_RULES = { rules: [{ id: 'echo', then: [{ send: '${frame}' }] }] };

/** Request examples of `PUT …/rules` on a TCP listener or connection, each valid as sent. */
export const TCP_RULE_EXAMPLES: Record<string, ExampleObject> = {
  echo: { summary: 'Echo every frame (or chunk) back', value: ECHO_RULES },
  keyValue: { summary: 'A line-protocol key-value server (frame the connection as lines)', value: KEY_VALUE_RULES },
  smtp: { summary: 'An SMTP server with STARTTLS (frame the connection as lines)', value: SMTP_RULES },
  cycling: {
    summary: 'Answers used in turn, a rule that runs out, silence closed after 30 s',
    value: {
      rules: [
        { id: 'first-only', match: { equals: 'HELLO' }, times: 1, then: [{ send: 'WELCOME\n' }] },
        { id: 'turns', responses: [{ then: [{ send: 'one\n' }] }, { then: [{ send: 'two\n' }] }, { then: [{ send: 'three\n' }, { delayMs: 100 }, { sendSlowly: 'and again\n', chunkBytes: 2, intervalMs: 20 }] }] },
        { id: 'idle', on: 'idle', idleMs: 30_000, then: [{ send: 'bye, idle\n' }, { close: 'rst' }] },
      ],
    },
  },
  none: { summary: 'No rules', value: { rules: [] } },
};

/**
 * A DNS server of one answer: a standard query (flags `01 00`: recursion desired, one question,
 * no other records) gets a response with its id and question back and an A record, 127.0.0.1.
 * The regex runs on the query's hex form; its groups go back in as the bytes they spell.
 */
export const DNS_RULES = {
  rules: [
    {
      id: 'dns-a',
      match: { bytes: '?? ?? 01 00 00 01 00 00 00 00 00 00', regex: '^(?P<id>[0-9a-f]{4})[0-9a-f]{20}(?P<question>.*)$', encoding: 'hex' },
      then: [{ send: '${id}81800001000100000000${question}c00c000100010000003c00047f000001', encoding: 'hex' }],
    },
  ],
};

/** Request examples of `PUT …/rules` on a UDP socket. */
export const UDP_RULE_EXAMPLES: Record<string, ExampleObject> = {
  echo: { summary: 'Echo every datagram to its sender (the tutorial’s udp_server.py)', value: ECHO_RULES },
  dns: { summary: 'Answer datagrams that look like a DNS query (bytes match on the header)', value: DNS_RULES },
  hexReply: {
    summary: 'Answer a hex probe with fixed hex bytes, discarding it; log everything else',
    value: { rules: [{ id: 'probe', match: { equals: 'cafe', encoding: 'hex' }, then: [{ send: 'beef', encoding: 'hex' }, { discard: true }] }] },
  },
};
