import { describe, expect, it } from '@jest/globals';
import { credentialKey, mergeCredentials, parseCredentialKey, splitCredentials } from './credentials.js';

describe('backend credentials', () => {
  const config = {
    url: 'redis://db:6379',
    password: 's3cret',
    sasl: { mechanism: 'plain', password: 'k4fka' },
    servers: ['nats://a:4222', 'nats://u:pw@b:4222'],
    'odd.key': 'dotted',
  };
  const paths = [['password'], ['sasl', 'password'], ['servers', 1], ['odd.key']];

  it('moves secrets out of the blob, keyed by their config path', () => {
    const { config: blob, credentials } = splitCredentials(config, paths);
    expect(credentials).toEqual({
      password: 's3cret',
      'sasl.password': 'k4fka',
      'servers.1': 'nats://u:pw@b:4222',
      'odd~1key': 'dotted',
    });
    expect(blob).toEqual({
      url: 'redis://db:6379',
      sasl: { mechanism: 'plain' },
      servers: ['nats://a:4222', null],
    });
    expect(JSON.stringify(blob)).not.toMatch(/s3cret|k4fka|pw@|dotted/);
    expect(config.password).toBe('s3cret'); // the input is not modified
  });

  it('puts every secret back at its path (the inverse)', () => {
    const { config: blob, credentials } = splitCredentials(config, paths);
    expect(mergeCredentials(blob, credentials)).toEqual(config);
  });

  it('keeps flat keys working and creates missing objects', () => {
    expect(mergeCredentials({ url: 'x' }, { password: 'p', 'tls.key': 'k' })).toEqual({
      url: 'x',
      password: 'p',
      tls: { key: 'k' },
    });
  });

  it('escapes "." and "~" in keys and ignores __proto__ paths', () => {
    expect(credentialKey(['a.b', 'c~d', 0])).toBe('a~1b.c~0d.0');
    expect(parseCredentialKey('a~1b.c~0d.0')).toEqual(['a.b', 'c~d', '0']);
    const merged = mergeCredentials({}, { '__proto__.polluted': 'yes' });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(merged).toEqual({});
  });
});
