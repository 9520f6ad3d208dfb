import { main } from '../../examples/echo-roundtrip';
import { TestApp, startTestApp } from '../support/test-app';

describe('examples/echo-roundtrip.ts', () => {
  let t: TestApp;
  let baseUrl: string;
  beforeAll(async () => {
    t = await startTestApp();
    baseUrl = `http://127.0.0.1:${await t.listen()}`;
  });
  afterAll(() => t.close());

  it('echoes a line through an echo listener with the typed client, prints it and leaves nothing open', async () => {
    const log = jest.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      await main([baseUrl, 'Hello from another service']);
      expect(log.mock.calls).toEqual([['Received: Hello from another service']]);
    } finally {
      log.mockRestore();
    }
    const listeners = await t.http.get('/v1/tcp/listeners').expect(200);
    const connections = await t.http.get('/v1/tcp/connections').expect(200);
    expect({ listeners: listeners.body.items, connections: connections.body.items }).toEqual({ listeners: [], connections: [] });
  });
});
