import { crossOriginRefusal } from './cross-origin';

describe('crossOriginRefusal', () => {
  const host = '127.0.0.1:3000';

  it('lets same-origin pages and non-browser clients through', () => {
    expect(crossOriginRefusal({ host }, [])).toBeNull();
    expect(crossOriginRefusal({ host, origin: 'http://127.0.0.1:3000' }, [])).toBeNull();
    expect(crossOriginRefusal({ host, origin: 'http://evil.example', 'sec-fetch-site': 'same-origin' }, [])).toBeNull();
    expect(crossOriginRefusal({ host: 'tool.example:80', origin: 'http://tool.example' }, [])).toBeNull();
  });

  it('refuses other origins unless they are trusted', () => {
    expect(crossOriginRefusal({ host, origin: 'http://evil.example' }, [])?.code).toBe('CROSS_ORIGIN_DENIED');
    expect(crossOriginRefusal({ host, origin: 'null' }, [])?.code).toBe('CROSS_ORIGIN_DENIED');
    expect(crossOriginRefusal({ host, origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' }, [])?.code).toBe('CROSS_ORIGIN_DENIED');
    expect(crossOriginRefusal({ host, origin: 'https://tool.example', 'sec-fetch-site': 'cross-site' }, ['https://tool.example'])).toBeNull();
  });
});
