// Jest loads globalSetup/globalTeardown through a CommonJS require hook that transforms TypeScript but
// does not apply moduleNameMapper, so the sources' NodeNext-style './x.js' specifiers would not resolve.
// This maps them to the './x.ts' sources of this package (only for requires made from its src/).
const fs = require('node:fs');
const Module = require('node:module');
const path = require('node:path');

const srcDir = path.join(__dirname, 'src') + path.sep;
const original = Module._resolveFilename;
if (!original.prismTesting) {
  const patched = function (request, parent, ...rest) {
    if (parent?.filename?.startsWith(srcDir) && request.startsWith('.') && request.endsWith('.js')) {
      const ts = path.resolve(path.dirname(parent.filename), `${request.slice(0, -3)}.ts`);
      if (fs.existsSync(ts)) return ts;
    }
    return original.call(this, request, parent, ...rest);
  };
  patched.prismTesting = true;
  Module._resolveFilename = patched;
}
