import { FrameLog } from './frame-log';

const at = new Date(0);
/** Frames of `sizes` data bytes back to back, each with a 1-byte delimiter after its data. */
function logOf(sizes: number[], held = true): FrameLog {
  const log = new FrameLog();
  let offset = 0;
  for (const size of sizes) {
    log.append({ from: offset, to: offset + size + 1, dataFrom: offset, dataTo: offset + size }, at, held);
    offset += size + 1;
  }
  return log;
}

describe('FrameLog', () => {
  it('numbers frames from 0 and reads them by index without consuming', () => {
    const log = logOf([2, 3, 4]);
    expect([log.oldestIndex, log.endIndex, log.heldFrames]).toEqual([0, 3, 3]);
    expect(log.read(1, 10, 100).map((f) => f.index)).toEqual([1, 2]);
    expect(log.read(1, 10, 100).map((f) => f.index)).toEqual([1, 2]);
    expect(log.read(0, 2, 100).map((f) => f.index)).toEqual([0, 1]);
  });

  it('stops before the frame that would pass maxBytes, but always returns one', () => {
    const log = logOf([5, 5, 5]);
    expect(log.read(0, 10, 12).map((f) => f.index)).toEqual([0, 1]);
    expect(log.read(0, 10, 1).map((f) => f.index)).toEqual([0]);
  });

  it('answers where the bytes of released frames end, and drops the frames of released bytes', () => {
    const log = logOf([2, 2, 2]);
    expect(log.releaseUpTo(2)).toBe(6);
    expect([log.oldestIndex, log.heldFrames]).toEqual([2, 1]);
    expect(log.releaseUpTo(2)).toBeNull();
    log.releaseBelowOffset(7);
    expect([log.oldestIndex, log.endIndex, log.heldFrames]).toEqual([3, 3, 0]);
  });

  it('numbers frames whose bytes are not held without keeping them', () => {
    const log = logOf([1, 1], false);
    expect([log.oldestIndex, log.endIndex, log.heldFrames]).toEqual([2, 2, 0]);
  });
});
