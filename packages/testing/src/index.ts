export * from './binaries.ts';
export * from './env.ts';
export * from './nats.ts';
export * from './ports.ts';
export * from './postgres.ts';
export * from './process.ts';
export * from './redis.ts';
export * from './server.ts';
