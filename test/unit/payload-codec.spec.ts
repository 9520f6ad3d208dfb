import { decodePayload, encodePayload } from '../../src/sockets/payload-codec';
import { SocketError } from '../../src/sockets/socket-error';

describe('payload codec', () => {
  it.each([
    ['utf8', 'héllo', Buffer.from('héllo', 'utf8')],
    ['hex', '00ff10Ab', Buffer.from([0, 255, 16, 171])],
    ['hex', '', Buffer.alloc(0)],
    ['base64', 'aGVsbG8=', Buffer.from('hello')],
    ['base64', 'aGVsbG8', Buffer.from('hello')],
    ['base64', 'AAEC/w==', Buffer.from([0, 1, 2, 255])],
  ] as const)('decodes %s %j', (encoding, text, bytes) => {
    expect(decodePayload(text, encoding)).toEqual(bytes);
  });

  it.each([
    ['hex', 'abc'],
    ['hex', 'zz'],
    ['hex', '0x00'],
    ['base64', 'a'],
    ['base64', 'ab$c'],
    ['base64', 'aGVsbG8=x'],
    ['base64', 'aGVs bG8='],
    ['base64', 'aGVsbG8-'],
  ] as const)('refuses malformed %s %j instead of guessing', (encoding, text) => {
    expect(() => decodePayload(text, encoding)).toThrow(SocketError);
    expect(() => decodePayload(text, encoding)).toThrow(expect.objectContaining({ code: 'INVALID_PAYLOAD' }));
  });

  it('round-trips arbitrary bytes in every encoding but utf8', () => {
    const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    for (const encoding of ['hex', 'base64'] as const) {
      expect(decodePayload(encodePayload(bytes, encoding), encoding)).toEqual(bytes);
    }
  });
});
