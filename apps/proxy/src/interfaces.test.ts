import { readdirSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { knownFlavourNames } from '@prism/config';
import { KNOWN_INTERFACES } from './interfaces.js';

describe('KNOWN_INTERFACES', () => {
  const names = KNOWN_INTERFACES.map((i) => i.name).sort();

  it('mounts every contract package under packages/interfaces', () => {
    const dirs = readdirSync(new URL('../../../packages/interfaces/', import.meta.url)).map((d) =>
      d.replaceAll('-', '_'),
    );
    expect(names).toEqual(dirs.sort());
  });

  it("matches the config's flavour list (used for suggestions and prismctl) for every served model", () => {
    const models = new Set(names.map((n) => n.split('_')[0]));
    const known = knownFlavourNames().filter((n) => models.has(n.split('_')[0]));
    expect(names).toEqual(known.sort());
  });
});
