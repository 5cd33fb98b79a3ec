import type { PluginHandle } from '@prism/sdk';

/**
 * A namespace's plugin as operators see it: `running`; `restarting` (a sidecar died or a remote plugin
 * was lost, and the supervisor restarts it); `unavailable` (its backend was unreachable at start and the
 * proxy keeps starting it); `stopped` (closed).
 */
export type PluginState = 'running' | 'restarting' | 'unavailable' | 'stopped';

/** What a plugin handle of the proxy's own tells about itself beyond {@link PluginHandle}. */
export interface PluginInspection {
  readonly state: PluginState;
  /** Process id of a sidecar; undefined for other modes and while it is down. */
  readonly pid?: number | undefined;
  /** Restarts since the handle was created (crashes, lost connections, admin restarts). */
  readonly restarts: number;
  /** Why it last went down or failed to start; empty when it never did. */
  readonly lastError: string;
  /** When the current connection (process) started serving, or, while it is not running, when it went down. */
  readonly since: Date;
}

/**
 * A handle that reports its state (the supervisor of sidecar and remote plugins, and the placeholder of
 * a namespace whose backend is unreachable). The admin API reads it; the router never does.
 */
export interface InspectablePlugin extends PluginHandle {
  inspect(): PluginInspection;
  /**
   * Replaces the plugin in place: a new connection (a new sidecar process) first, then the old one
   * drains and stops. Absent when the handle cannot restart itself: the proxy re-creates the instance.
   */
  restart?(): Promise<void>;
}

/** True when `handle` reports its state (see {@link InspectablePlugin}). */
export function isInspectable(handle: PluginHandle): handle is InspectablePlugin {
  return typeof (handle as Partial<InspectablePlugin>).inspect === 'function';
}
