export { buildProgram } from './program.js';
export { findWorkspaceRoot, type ScaffoldOptions, scaffoldPlugin } from './scaffold.js';
export { type ValidationResult, validateConfig } from './validate.js';
