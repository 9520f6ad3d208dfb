import createClient, { Client, ClientOptions } from 'openapi-fetch';
import { paths } from './schema';

export type { components, operations, paths } from './schema';

/**
 * The media types the client reads: JSON answers and problem+json errors. Reads of received bytes
 * can also answer `application/octet-stream`, but only when asked by `Accept`, which this client
 * does not send.
 */
type JsonMedia = `application/${string}json`;

/** A client whose paths, parameters, bodies and answers are typed from openapi/openapi.json. */
export type SockplaneClient = Client<paths, JsonMedia>;

/**
 * A typed client of the sockplane service at `baseUrl` (e.g. `http://127.0.0.1:3000`), on the
 * platform's `fetch`. Every call answers `{data}` on success or `{error}` (problem+json) otherwise.
 */
export function createSockplaneClient(baseUrl: string, options: Omit<ClientOptions, 'baseUrl'> = {}): SockplaneClient {
  return createClient<paths, JsonMedia>({ ...options, baseUrl });
}
