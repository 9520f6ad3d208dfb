import fc from 'fast-check';
import { encodeFrame, unframeable } from './frame-encoder';
import { createFramer } from './framers';
import { DelimiterFraming, FRAMING_PRESETS, delimiterConflict, FrameBounds, Framing, FramingFault, LengthFraming } from './framing';

interface Framed {
  frames: FrameBounds[];
  fault: FramingFault | null;
}

/** Frames `input` handed over in pieces cut at `cuts` (positions into it). */
function frameInPieces(framing: Framing, input: Buffer, cuts: number[] = []): Framed {
  const framer = createFramer(framing, 0);
  const frames: FrameBounds[] = [];
  let fault: FramingFault | null = null;
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  for (const point of [...points, input.length]) {
    fault ??= framer.push(input.subarray(at, point), (frame) => frames.push(frame));
    at = point;
  }
  return { frames, fault };
}

const dataOf = (input: Buffer, framed: Framed): string[] => framed.frames.map((f) => input.subarray(f.dataFrom, f.dataTo).toString('latin1'));

const delimiter = (delimiters: string[], more: Partial<DelimiterFraming> = {}): DelimiterFraming => ({
  type: 'delimiter',
  delimiters: delimiters.map((d) => Buffer.from(d, 'latin1')),
  opener: null,
  includeDelimiter: false,
  maxFrameBytes: 1024,
  ...more,
});

const length = (more: Partial<LengthFraming> = {}): LengthFraming => ({
  type: 'length',
  lengthFieldOffset: 0,
  lengthFieldLength: 4,
  byteOrder: 'big',
  lengthAdjustment: 0,
  initialBytesToStrip: 4,
  maxFrameBytes: 1024,
  ...more,
});

/** Bytes drawn from a small alphabet, so delimiters turn up often. */
const streamOf = (alphabet: string): fc.Arbitrary<Buffer> =>
  fc.array(fc.constantFrom(...alphabet.split('')), { maxLength: 200 }).map((chars) => Buffer.from(chars.join(''), 'latin1'));
const cuts = fc.array(fc.nat(), { maxLength: 12 });

const framingArb: fc.Arbitrary<Framing> = fc.oneof(
  fc.record({
    type: fc.constant('delimiter' as const),
    delimiters: fc
      .uniqueArray(fc.constantFrom('\n', '\r\n', 'ab', 'aba', 'ba', '\r\n\r\n', 'b', 'aab'), { minLength: 1, maxLength: 3 })
      .map((ds) => ds.map((d) => Buffer.from(d, 'latin1')))
      .filter((ds) => delimiterConflict(ds) === null),
    opener: fc.constantFrom(null, Buffer.from('a')),
    includeDelimiter: fc.boolean(),
    maxFrameBytes: fc.integer({ min: 1, max: 40 }),
  }),
  fc.record({
    type: fc.constant('length' as const),
    lengthFieldOffset: fc.integer({ min: 0, max: 3 }),
    lengthFieldLength: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const, 8 as const, 'varint' as const),
    byteOrder: fc.constantFrom('big' as const, 'little' as const),
    lengthAdjustment: fc.integer({ min: -3, max: 3 }),
    initialBytesToStrip: fc.integer({ min: 0, max: 6 }),
    maxFrameBytes: fc.integer({ min: 1, max: 300 }),
  }),
  fc.record({ type: fc.constant('fixed' as const), frameBytes: fc.integer({ min: 1, max: 9 }) }),
);

describe('framers', () => {
  it('find the same frames and the same fault however the bytes are split', () => {
    fc.assert(
      fc.property(framingArb, streamOf('ab\r\n\x00\x01\x02\x80'), cuts, (framing, input, at) => {
        const whole = frameInPieces(framing, input);
        const split = frameInPieces(framing, input, at);
        expect(split.frames).toEqual(whole.frames);
        expect(split.fault?.offset).toEqual(whole.fault?.offset);
      }),
      { numRuns: 2000 },
    );
  });

  it('give frames that tile the stream: each starts where the one before ended', () => {
    fc.assert(
      fc.property(framingArb, streamOf('ab\r\n\x00\x01\x02'), (framing, input) => {
        const { frames, fault } = frameInPieces(framing, input);
        let at = 0;
        for (const frame of frames) {
          expect(frame.from).toBe(at);
          expect(frame.from <= frame.dataFrom && frame.dataFrom <= frame.dataTo && frame.dataTo <= frame.to).toBe(true);
          at = frame.to;
        }
        if (fault) expect(fault.offset).toBe(at);
      }),
    );
  });

  it('refuses data that the opener and a delimiter would cut short even though the data holds no delimiter byte', () => {
    const framing: DelimiterFraming = { type: 'delimiter', delimiters: [Buffer.from('ab')], opener: Buffer.from('a'), includeDelimiter: false, maxFrameBytes: 16 };
    // On the wire: a + b + ab, which a peer reads as an empty frame, then b.
    expect(unframeable(framing, Buffer.from('b'))).not.toBeNull();
    expect(unframeable(framing, Buffer.from('c'))).toBeNull();
  });

  it('read back exactly what encodeFrame wrote, for delimited and fixed frames the framing can carry', () => {
    fc.assert(
      fc.property(framingArb, fc.array(fc.uint8Array({ maxLength: 30 }), { maxLength: 8 }), cuts, (framing, payloads, at) => {
        fc.pre(framing.type !== 'length');
        const sendable = payloads.map((p) => Buffer.from(p)).filter((p) => unframeable(framing, p) === null);
        const wire = Buffer.concat(sendable.flatMap((p) => encodeFrame(framing, p)));
        const framed = frameInPieces(framing, wire, at);
        const expected = framing.type === 'delimiter' && framing.includeDelimiter ? sendable.map((p) => Buffer.concat(encodeFrame(framing, p))) : sendable;
        expect(framed.fault).toBeNull();
        expect(framed.frames.map((f) => wire.subarray(f.dataFrom, f.dataTo))).toEqual(expected);
      }),
    );
  });

  it('round-trip length-prefixed frames of every field length, byte order, offset and adjustment, the header stripped', () => {
    const lengthArb = fc.record({
      lengthFieldOffset: fc.integer({ min: 0, max: 3 }),
      lengthFieldLength: fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const, 8 as const, 'varint' as const),
      byteOrder: fc.constantFrom('big' as const, 'little' as const),
      lengthAdjustment: fc.integer({ min: -4, max: 0 }),
    });
    fc.assert(
      fc.property(lengthArb, fc.array(fc.uint8Array({ minLength: 4, maxLength: 300 }), { maxLength: 6 }), cuts, (params, payloads, at) => {
        const width = params.lengthFieldLength === 'varint' ? 1 : params.lengthFieldLength;
        const framing = length({ ...params, initialBytesToStrip: params.lengthFieldOffset + width, maxFrameBytes: 1 << 20 });
        const data = payloads.map((p) => Buffer.from(p)).filter((p) => unframeable(framing, p) === null);
        const wire = Buffer.concat(data.flatMap((p) => encodeFrame(framing, p)));
        const framed = frameInPieces(framing, wire, at);
        expect(framed.fault).toBeNull();
        expect(framed.frames.map((f) => wire.subarray(f.dataFrom, f.dataTo))).toEqual(data);
      }),
    );
  });

  describe('delimiter', () => {
    it('splits "a\\r\\nbb\\r\\nccc" at CRLF and keeps "ccc" until its delimiter comes', () => {
      const input = Buffer.from('a\r\nbb\r\nccc');
      expect(dataOf(input, frameInPieces(FRAMING_PRESETS.crlf, input, [1, 6]))).toEqual(['a', 'bb']);
      const more = Buffer.from('a\r\nbb\r\nccc\r\n');
      expect(dataOf(more, frameInPieces(FRAMING_PRESETS.crlf, more, [1, 6, 11]))).toEqual(['a', 'bb', 'ccc']);
    });

    it('takes the earliest delimiter, and the longest of those starting at the same byte', () => {
      const input = Buffer.from('x\r\ny\nz\r\n');
      expect(dataOf(input, frameInPieces(FRAMING_PRESETS.lines, input))).toEqual(['x', 'y', 'z']);
      const framed = frameInPieces(delimiter(['b', 'ab']), Buffer.from('xaby'));
      expect(framed.frames).toEqual([{ from: 0, to: 3, dataFrom: 0, dataTo: 1 }]);
    });

    it('keeps the delimiter in the data with includeDelimiter', () => {
      const input = Buffer.from('one\ntwo\n');
      expect(dataOf(input, frameInPieces(delimiter(['\n'], { includeDelimiter: true }), input, [2, 4]))).toEqual(['one\n', 'two\n']);
    });

    it('cuts MLLP and STX/ETX markers from the data', () => {
      const mllp = Buffer.from('\x0bMSH|^~\\&\x1c\r\x0bA\x1c\r', 'latin1');
      expect(dataOf(mllp, frameInPieces(FRAMING_PRESETS.mllp, mllp, [0, 1, 9, 10]))).toEqual(['MSH|^~\\&', 'A']);
      const stx = Buffer.from('\x02hi\x03\x02\x03', 'latin1');
      expect(dataOf(stx, frameInPieces(FRAMING_PRESETS['stx-etx'], stx, [1]))).toEqual(['hi', '']);
    });

    it('faults a frame over maxFrameBytes, at the frame’s first byte, and frames nothing after', () => {
      const framed = frameInPieces(delimiter(['\n'], { maxFrameBytes: 3 }), Buffer.from('abc\nabcd\nx\n'));
      expect(framed.frames).toHaveLength(1);
      expect(framed.fault?.offset).toBe(4);
    });

    it('faults an endless line before the delimiter comes, holding only a delimiter’s length of it', () => {
      const framer = createFramer(delimiter(['\r\n'], { maxFrameBytes: 1000 }), 0);
      const chunk = Buffer.alloc(600, 'a');
      expect(framer.push(chunk, () => undefined)).toBeNull();
      expect(framer.push(chunk, () => undefined)?.offset).toBe(0);
    });
  });

  describe('length', () => {
    it('reads a big-endian u32 prefix split inside the field', () => {
      const input = Buffer.concat([Buffer.from([0, 0, 0, 5]), Buffer.from('hello'), Buffer.from([0, 0, 0, 0])]);
      expect(dataOf(input, frameInPieces(FRAMING_PRESETS.u32be, input, [1, 3, 6]))).toEqual(['hello', '']);
    });

    it('follows Netty’s examples: offset, adjustment and stripping', () => {
      // Netty's javadoc: 2 bytes of header before a 3-byte length, whose value counts the 1-byte header after it too.
      const framing = length({ lengthFieldOffset: 2, lengthFieldLength: 3, lengthAdjustment: -1, initialBytesToStrip: 6 });
      const input = Buffer.from([0xca, 0xfe, 0, 0, 7, 0xee, 0x68, 0x69, 0x21, 0x21, 0x21]);
      expect(dataOf(input, frameInPieces(framing, input))).toEqual(['hi!!!']);
      const whole = length({ lengthFieldLength: 2, lengthAdjustment: -2, initialBytesToStrip: 0 });
      const withHeader = Buffer.from([0, 4, 0x6f, 0x6b]);
      expect(frameInPieces(whole, withHeader).frames).toEqual([{ from: 0, to: 4, dataFrom: 0, dataTo: 4 }]);
    });

    it('reads little-endian fields and varints', () => {
      const little = Buffer.from([3, 0, 0x61, 0x62, 0x63]);
      expect(dataOf(little, frameInPieces(length({ lengthFieldLength: 2, byteOrder: 'little', initialBytesToStrip: 2 }), little))).toEqual(['abc']);
      const payload = Buffer.alloc(300, 'z');
      const varint = Buffer.concat([Buffer.from([0xac, 0x02]), payload]);
      const framed = frameInPieces(length({ lengthFieldLength: 'varint', initialBytesToStrip: 1 }), varint, [1]);
      expect(dataOf(varint, framed)).toEqual([payload.toString('latin1')]);
    });

    it('faults a declared length over maxFrameBytes as soon as the field is read, holding none of it', () => {
      const framer = createFramer(length({ maxFrameBytes: 1024 * 1024 }), 0);
      const gib = Buffer.alloc(4);
      gib.writeUInt32BE(2 ** 30);
      expect(framer.push(gib, () => undefined)).toEqual({ offset: 0, message: expect.stringContaining('over maxFrameBytes') });
    });

    it('faults lengths that cannot be valid: below nothing, shorter than the strip, a varint that never ends', () => {
      expect(frameInPieces(length({ lengthFieldLength: 1, lengthAdjustment: -2 }), Buffer.from([1, 0])).fault?.message).toContain('less than nothing');
      expect(frameInPieces(length({ lengthFieldLength: 1, initialBytesToStrip: 4 }), Buffer.from([1, 0])).fault?.message).toContain('initialBytesToStrip');
      expect(frameInPieces(length({ lengthFieldLength: 'varint' }), Buffer.alloc(11, 0xff)).fault?.message).toContain('varint');
    });
  });

  it('fixed: frames of frameBytes bytes', () => {
    const input = Buffer.from('abcdefg');
    expect(dataOf(input, frameInPieces({ type: 'fixed', frameBytes: 3 }, input, [1, 4]))).toEqual(['abc', 'def']);
  });

  it('refuses delimiter sets whose frames would depend on how the bytes arrive', () => {
    const set = (...ds: string[]): Buffer[] => ds.map((d) => Buffer.from(d));
    expect(delimiterConflict(set('\r\n', '\n'))).toBeNull();
    expect(delimiterConflict(set('aba', 'b'))).toContain('inside another');
    expect(delimiterConflict(set('\r\n', '\r'))).toContain('inside another');
    expect(delimiterConflict(set('x', 'x'))).toContain('differ');
    expect(delimiterConflict([])).toContain('at least one');
  });

  describe('encodeFrame', () => {
    it('refuses data the framing cannot carry', () => {
      expect(unframeable({ type: 'fixed', frameBytes: 4 }, Buffer.from('abc'))).toContain('frameBytes');
      expect(unframeable(FRAMING_PRESETS.lines, Buffer.from('a\nb'))).toContain('delimiter');
      expect(unframeable(length({ lengthFieldLength: 1 }), Buffer.alloc(256))).toContain('1-byte');
      expect(unframeable(length({ lengthAdjustment: 5 }), Buffer.alloc(4))).toContain('lengthAdjustment');
    });
  });
});
