import { SocketError } from './socket-error';

export const PAYLOAD_ENCODINGS = ['utf8', 'base64', 'hex'] as const;
export type PayloadEncoding = (typeof PAYLOAD_ENCODINGS)[number];

const HEX = /^(?:[0-9a-fA-F]{2})*$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Text to bytes. Node's decoders skip characters they do not understand; a control plane must
 * not send bytes the caller did not mean, so malformed hex and base64 are refused instead.
 */
export function decodePayload(data: string, encoding: PayloadEncoding, field = 'data'): Buffer {
  switch (encoding) {
    case 'utf8':
      return Buffer.from(data, 'utf8');
    case 'hex':
      if (!HEX.test(data)) {
        throw new SocketError('INVALID_PAYLOAD', `${field} is not valid hex: it needs an even number of digits 0-9, a-f`, {
          field,
        });
      }
      return Buffer.from(data, 'hex');
    case 'base64':
      if (!BASE64.test(data) || data.length % 4 === 1 || (data.includes('=') && data.length % 4 !== 0)) {
        throw new SocketError('INVALID_PAYLOAD', `${field} is not valid base64 (RFC 4648 standard alphabet)`, { field });
      }
      return Buffer.from(data, 'base64');
  }
}

export function encodePayload(bytes: Buffer, encoding: PayloadEncoding): string {
  return bytes.toString(encoding);
}
