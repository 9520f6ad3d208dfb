import { ResourceIds } from './ids';

describe('ResourceIds', () => {
  afterEach(() => ResourceIds.stampNode(null));

  it('makes ids of a single node as before: prefix, sequence, random bits, no node', () => {
    const ids = new ResourceIds();
    const first = ids.next('tl');
    expect(first).toEqual({ id: expect.stringMatching(/^tl_000001[0-9a-f]{10}$/), seq: 1 });
    expect(ResourceIds.ownerOf(first.id)).toBeNull();
  });

  it('in a cluster, carries the node, which ownerOf reads back with the sequence', () => {
    ResourceIds.stampNode('n4k2x9');
    const ids = new ResourceIds();
    ids.next('tc');
    const { id, seq } = ids.next('tc');
    expect(id).toMatch(/^tc_n4k2x9_000002[0-9a-f]{10}$/);
    expect(ResourceIds.ownerOf(id)).toEqual({ node: 'n4k2x9', seq });
  });

  it('reads a sequence past six base-36 digits', () => {
    expect(ResourceIds.ownerOf('us_b7q0m1_1000000abcdef0123')).toEqual({ node: 'b7q0m1', seq: 36 ** 6 });
  });

  it.each(['tc_000001a1b2c3d4e5', 'tc_N4K2X9_000001a1b2c3d4e5', 'tc_n4k2x9_', 'ct_000001a1b2c3d4e5', 'tl_1n4k2x_000001a1b2c3d4e5', '..'])('finds no owner in %s', (text) => {
    expect(ResourceIds.ownerOf(text)).toBeNull();
  });

  it('refuses a node id that ids could not carry', () => {
    expect(() => ResourceIds.stampNode('9abcde')).toThrow(RangeError);
  });
});
