import { ByteWriter } from './byte-writer';

describe('ByteWriter', () => {
  it('grows past its first block and keeps what was written, in order', () => {
    const out = new ByteWriter(4);
    out.writeBytes(Buffer.from('abc'));
    out.writeText('déf', 'utf8');
    out.writeText('2021', 'hex');
    expect(out.take()).toEqual(Buffer.concat([Buffer.from('abcdéf'), Buffer.from([0x20, 0x21])]));
    expect(out.length).toBe(0);
  });

  it('inserts before what was written, and forgets from a point on', () => {
    const out = new ByteWriter(2);
    out.writeBytes(Buffer.from('payload'));
    out.insert(0, Buffer.from([7]));
    out.truncate(4);
    expect(out.view(1).toString()).toBe('pay');
    expect(out.take()).toEqual(Buffer.from([7, ...Buffer.from('pay')]));
  });

  it('gives each taker buffers of its own: what one took is not written over by the next', () => {
    const out = new ByteWriter(8);
    out.writeBytes(Buffer.from('first'));
    const first = out.take();
    out.writeBytes(Buffer.from('other'));
    expect(first.toString()).toBe('first');
    expect(out.take().toString()).toBe('other');
  });
});
