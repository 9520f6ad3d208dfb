import { ConnectionPairs } from '../../test/support/connection-pair';

describe('socketTransport', () => {
  const pairs = new ConnectionPairs();
  afterEach(() => pairs.closeAll());

  it('a reset while its FIN is still queued closes the connection all the same', async () => {
    const { connection, whenClosed } = await pairs.open();
    const graceful = connection.close('graceful');
    // Same turn: the FIN's shutdown request is still pending, which libuv's reset refuses.
    const reset = connection.close('reset');
    await Promise.all([graceful, reset, whenClosed]);
    expect(connection.state).toBe('closed');
  });
});
