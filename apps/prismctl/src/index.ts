export { type CommandNode, commandTree, type OptionNode } from './completion.js';
export { type Alternative, type GeneratedConfig, type GenerateOptions, generateConfig } from './generate.js';
export {
  CheckFailedError,
  type CliIo,
  EXIT,
  type ExitCode,
  UsageError,
} from './io.js';
export { type BackendInfo, EMBEDDED_BACKENDS, loadBackends } from './metadata.js';
export { formatTable } from './output.js';
export { describePatterns, type PatternInfo } from './pattern-info.js';
export { buildProgram, type ProgramOptions, run } from './program.js';
export { findWorkspaceRoot, type ScaffoldOptions, scaffoldPlugin } from './scaffold.js';
export {
  type InterfaceCheck,
  type NamespaceReport,
  type SlotReport,
  type ValidationReport,
  type ValidationResult,
  validateConfig,
} from './validate.js';
