/** Health of a plugin instance as the proxy and grpc.health.v1 see it. */
export type HealthStatus = 'healthy' | 'degraded' | 'unhealthy';

/** A health report: status, a human message and string details (e.g. `keys`, `max_keys`). */
export interface HealthReport {
  readonly status: HealthStatus;
  readonly message?: string;
  readonly details?: Readonly<Record<string, string>>;
}

/** Convenience constructors for health reports. */
export const healthy = (details?: Record<string, string>, message?: string): HealthReport => ({
  status: 'healthy',
  ...(message ? { message } : {}),
  ...(details ? { details } : {}),
});
export const degraded = (message: string, details?: Record<string, string>): HealthReport => ({
  status: 'degraded',
  message,
  ...(details ? { details } : {}),
});
export const unhealthy = (message: string, details?: Record<string, string>): HealthReport => ({
  status: 'unhealthy',
  message,
  ...(details ? { details } : {}),
});
