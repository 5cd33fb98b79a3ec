// Jest reporter: when any test failed, prints the tail of the run-wide servers' logs (the files named
// by PRISM_TEST_*_LOG, set by the global setup) so backend-side errors are visible in CI output.
const { existsSync, readFileSync } = require('node:fs');

const TAIL_LINES = 80;

class PrismServerLogReporter {
  onRunComplete(_contexts, results) {
    if (results.numFailedTests === 0 && results.numRuntimeErrorTestSuites === 0) return;
    for (const [name, file] of Object.entries(process.env)) {
      if (!/^PRISM_TEST_[A-Z0-9]+_LOG$/.test(name) || !file || !existsSync(file)) continue;
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n').slice(-TAIL_LINES);
      process.stderr.write(
        `\n--- last ${lines.length} lines of ${file} (${name}) ---\n${lines.join('\n')}\n`,
      );
    }
  }
}

module.exports = PrismServerLogReporter;
