import { IsBooleanField, IsText } from '../validation';

/** Where in a cluster a new socket is made; the cluster layer reads it before the feature code runs. */
export class PlacementDto {
  @IsText({
    description: 'The node to make it on (a `nodeId` of `GET /v1/cluster`); on a single node, its own id or nothing',
    example: 'n4k2x9',
    pattern: { source: '^[a-z][a-z0-9]{5}$', message: 'must be a node id of GET /v1/cluster' },
  })
  node?: string;

  @IsBooleanField({ description: 'Make it on the least loaded live node', default: false })
  spread?: boolean;
}

/** The `placement` field every create body takes, documented once. */
export const PLACEMENT_DOC = {
  description:
    'In a cluster, the node that makes the socket: the one that received the call when omitted, `{"node": "<nodeId>"}` for that node, `{"spread": true}` for the least loaded live node. A single node ignores it',
};
