#!/usr/bin/env node
import { parseCli } from './cli.js';
import { formatReport } from './report.js';
import { runLoad } from './run.js';

const { options, json, quiet } = parseCli(process.argv);
const progress = quiet ? undefined : (line: string) => process.stderr.write(`${line}\n`);
try {
  const report = await runLoad({ ...options, progress });
  if (json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else process.stdout.write(`${formatReport(report)}\n`);
  process.exitCode = report.ok === 0 ? 1 : 0;
} catch (err) {
  process.stderr.write(`prism-load: ${(err as Error).message}\n`);
  process.exitCode = 1;
}
// Nothing should keep the process alive past the report (e.g. a half-open connection after an error).
process.exit();
