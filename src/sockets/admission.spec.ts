import { Admission } from './admission';
import { SocketError } from './socket-error';

function refusalOf(fn: () => void): SocketError | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err as SocketError;
  }
}

describe('Admission', () => {
  it('refuses past the service quota, with the limit in the details', () => {
    const admission = new Admission({ maxSockets: 2, maxSocketsPerKey: 0 });
    admission.admit('a');
    admission.admit('b');
    const refused = refusalOf(() => admission.assertRoom('c'));
    expect(refused).toMatchObject({ code: 'QUOTA_EXCEEDED', message: 'the service holds 2 sockets, its limit', details: { limit: 'maxSockets', max: 2 } });
    expect(admission.refusal('c')).toBe('quota');
    admission.release('a');
    expect(refusalOf(() => admission.assertRoom('c'))).toBeNull();
    expect(admission.refusal('c')).toBeNull();
  });

  it('refuses past one owner’s quota while others still get room', () => {
    const admission = new Admission({ maxSockets: 10, maxSocketsPerKey: 2 });
    admission.admit('a');
    admission.admit('a');
    expect(admission.heldBy('a')).toBe(2);
    expect(refusalOf(() => admission.assertRoom('a'))).toMatchObject({
      code: 'QUOTA_EXCEEDED',
      message: 'this API key holds 2 sockets, its limit',
      details: { limit: 'maxSocketsPerKey', max: 2 },
    });
    expect(admission.refusal('a')).toBe('quota');
    expect(refusalOf(() => admission.assertRoom('b'))).toBeNull();
    admission.release('a');
    admission.release('a');
    expect(admission.heldBy('a')).toBe(0);
  });

  it('refuses everything once shutdown began', () => {
    const admission = new Admission({ maxSockets: 10, maxSocketsPerKey: 0 });
    admission.beginShutdown();
    expect(admission.isShuttingDown).toBe(true);
    expect(refusalOf(() => admission.assertRoom(null))).toMatchObject({ code: 'SHUTTING_DOWN', message: 'the service is shutting down' });
    expect(refusalOf(() => admission.assertNotShuttingDown())).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(admission.refusal(null)).toBe('shutting-down');
  });
});
