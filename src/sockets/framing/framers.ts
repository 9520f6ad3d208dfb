import { DelimiterFramer } from './delimiter-framer';
import { FixedFramer } from './fixed-framer';
import { Framer, Framing } from './framing';
import { LengthFramer } from './length-framer';

/** A framer for `framing` whose first frame starts at stream offset `offset`. */
export function createFramer(framing: Framing, offset: number): Framer {
  switch (framing.type) {
    case 'delimiter':
      return new DelimiterFramer(framing, offset);
    case 'length':
      return new LengthFramer(framing, offset);
    case 'fixed':
      return new FixedFramer(framing, offset);
  }
}
