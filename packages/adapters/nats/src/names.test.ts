import { describe, expect, it } from '@jest/globals';
import { decodeToken, encodeToken, fitName, Names } from './names.js';

describe('names', () => {
  it('encodes any name into one [A-Za-z0-9_-] token, reversibly and injectively', () => {
    for (const name of ['orders', 'orders.eu', 'a_b', 'a.b_c-d', 'ü.✓', '_2e']) {
      const t = encodeToken(name);
      expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(decodeToken(t)).toBe(name);
    }
    expect(encodeToken('a.b')).not.toBe(encodeToken('a_b'));
    expect(encodeToken('_2e')).not.toBe(encodeToken('.'));
  });

  it('keeps JetStream names short enough to be directory names', () => {
    const long = new Names('ns', 'PRISM').stream(`${'a.'.repeat(63)}a`);
    expect(long.length).toBeLessThanOrEqual(200);
    expect(long).not.toBe(new Names('ns', 'PRISM').stream(`${'a.'.repeat(62)}ab`));
    expect(fitName('short')).toBe('short');
  });

  it('rejects namespaces that cannot be subject tokens', () => {
    expect(() => new Names('a.b', 'PRISM')).toThrow(/namespace/);
    expect(new Names('team-a', 'PRISM').topicSubject('x.y')).toBe('prism.team-a.t.x.y');
  });
});
