export * from './errors.js';
export * from './health.js';
export * from './interface.js';
export * from './limits.js';
export * from './logger.js';
export * from './metrics.js';
export * from './plugin.js';
export * from './retry.js';
export { z } from 'zod';
