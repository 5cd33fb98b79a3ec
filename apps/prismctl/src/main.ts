#!/usr/bin/env node
import { CommanderError } from 'commander';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exitCode = err.exitCode;
  else {
    console.error((err as Error).message);
    process.exitCode = 1;
  }
}
