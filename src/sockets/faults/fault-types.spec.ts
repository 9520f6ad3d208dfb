import { FAULT_TYPES, parseAttributes } from './fault-types';

describe('parseAttributes', () => {
  it('fills in defaults and keeps what was given', () => {
    expect(parseAttributes('latency', { ms: 100 })).toEqual({ attributes: { ms: 100, jitterMs: 0 } });
    expect(parseAttributes('limitBytes', { bytes: 10, then: 'rst' })).toEqual({ attributes: { bytes: 10, then: 'rst' } });
    expect(parseAttributes('refuse', {})).toEqual({ attributes: {} });
  });

  it('names every problem: a missing attribute, an unknown one, a value out of range or of the wrong kind', () => {
    expect(parseAttributes('latency', { jitterMs: 1.5, colour: 'red' })).toEqual({
      problems: [
        { field: 'attributes.colour', message: 'latency takes no attribute colour; it takes ms, jitterMs' },
        { field: 'attributes.ms', message: 'latency needs ms' },
        { field: 'attributes.jitterMs', message: 'jitterMs must be a whole number from 0 to 3600000' },
      ],
    });
    expect(parseAttributes('corrupt', { probability: 1.5 })).toEqual({ problems: [{ field: 'attributes.probability', message: 'probability must be a number from 0 to 1' }] });
    expect(parseAttributes('close', { how: 'slam' })).toEqual({ problems: [{ field: 'attributes.how', message: 'how must be one of fin, rst' }] });
  });

  it('documents every attribute of every type', () => {
    for (const type of Object.values(FAULT_TYPES)) for (const rule of Object.values(type.attributes)) expect(rule.description.length).toBeGreaterThan(3);
  });
});
