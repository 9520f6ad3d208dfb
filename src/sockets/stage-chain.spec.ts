import { Stage, StageChain } from './stage-chain';

/** Records what reaches the ends of a chain. */
function chainWithSinks(): { chain: StageChain; received: string[]; sent: string[] } {
  const received: string[] = [];
  const sent: string[] = [];
  const chain = new StageChain(
    (chunk) => received.push(chunk.toString()),
    (chunk) => sent.push(chunk.toString()),
  );
  return { chain, received, sent };
}

const tag = (name: string): Stage => ({
  name,
  received: (chunk, next) => next(Buffer.from(`${chunk}>${name}`)),
  sent: (chunk, next) => next(Buffer.from(`${chunk}>${name}`)),
});

describe('StageChain', () => {
  it('with nothing but its head, hands chunks straight to its sinks', () => {
    const { chain, received, sent } = chainWithSinks();
    expect(chain.isEmpty).toBe(true);
    expect(chain.names).toEqual(['head']);
    chain.receive(Buffer.from('in'));
    chain.send(Buffer.from('out'));
    expect({ received, sent }).toEqual({ received: ['in'], sent: ['out'] });
  });

  it('runs received bytes from the transport inwards and sent bytes the other way', () => {
    const { chain, received, sent } = chainWithSinks();
    chain.add(tag('framing'));
    chain.add(tag('fault'), 'framing');
    expect(chain.names).toEqual(['head', 'framing', 'fault']);
    chain.receive(Buffer.from('in'));
    chain.send(Buffer.from('out'));
    expect({ received, sent }).toEqual({ received: ['in>framing>fault'], sent: ['out>fault>framing'] });
  });

  it('splices stages in and out while bytes flow; a stage may handle one direction, drop or split', () => {
    const { chain, received, sent } = chainWithSinks();
    chain.receive(Buffer.from('1'));
    chain.add({ name: 'split', received: (chunk, next) => [...chunk.toString()].forEach((c) => next(Buffer.from(c))) });
    chain.add({ name: 'drop-x', received: (chunk, next) => chunk.toString() !== 'x' && next(chunk) }, 'split');
    chain.receive(Buffer.from('axb'));
    chain.send(Buffer.from('untouched'));
    chain.remove('split');
    chain.receive(Buffer.from('xy'));
    expect(chain.names).toEqual(['head', 'drop-x']);
    expect({ received, sent }).toEqual({ received: ['1', 'a', 'b', 'xy'], sent: ['untouched'] });
  });

  it('refuses a stage name twice, an unknown place and removing the head', () => {
    const { chain } = chainWithSinks();
    chain.add(tag('a'));
    expect(() => chain.add(tag('a'))).toThrow(RangeError);
    expect(() => chain.add(tag('b'), 'nowhere')).toThrow(RangeError);
    expect(() => chain.remove('head')).toThrow(RangeError);
    expect(() => chain.remove('nowhere')).toThrow(RangeError);
  });
});
