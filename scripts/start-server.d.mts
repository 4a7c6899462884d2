/** Types for start-server.mjs (used from the TypeScript e2e harness). */

export interface RunningServer {
  pid: number;
  port: number;
  url: string;
  logFile: string;
  stop(): Promise<void>;
}

export interface StartServerOptions {
  command: string[];
  port: number;
  logFile: string;
  before?: string[][];
  readyPath?: string;
  timeoutMs?: number;
  cpus?: string;
  cwd?: string;
}

export interface StartEdgeOidcOptions {
  port: number;
  persistTo: string;
  logFile: string;
  vars?: Record<string, string>;
  args?: string[];
  cpus?: string;
  timeoutMs?: number;
}

export const PROJECT_ROOT: string;
export function quietEnv(extra?: Record<string, string>): NodeJS.ProcessEnv;
export function freePort(): Promise<number>;
export function pinPrefix(cpus: string | undefined): string[];
export function stopProcessGroup(pid: number, graceMs?: number): Promise<void>;
export function startServer(options: StartServerOptions): Promise<RunningServer>;
export function startEdgeOidc(options: StartEdgeOidcOptions): Promise<RunningServer>;
