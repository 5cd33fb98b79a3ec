import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { CONFORMANCE_SUITES } from './suites.js';

const interfacesDir = new URL('../../interfaces/', import.meta.url);

describe('CONFORMANCE_SUITES', () => {
  it('has a suite for every contract package under packages/interfaces', () => {
    const names = readdirSync(interfacesDir).map((dir) => {
      const pkg = JSON.parse(readFileSync(new URL(`${dir}/package.json`, interfacesDir), 'utf8')) as {
        description: string;
      };
      // "Prism <name> interface: ..." is how every contract package describes itself.
      return /^Prism (\w+) interface/.exec(pkg.description)?.[1] ?? `${dir} (description not recognised)`;
    });
    expect(Object.keys(CONFORMANCE_SUITES).sort()).toEqual(names.sort());
  });
});
