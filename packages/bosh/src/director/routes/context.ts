import type { IncomingMessage, ServerResponse } from 'node:http';
import { deploymentNotFound } from '../store/deploymentStore.js';
import type { DirectorStores } from '../store/index.js';
import { taskNotFound, type TaskType } from '../tasks.js';

/** What the Director's routes need: its stores, its facts, and the way to start a task. */
export interface RouteContext {
  stores: DirectorStores;
  /** The Director's name (`/info` `name`). */
  name: string;
  /** The Director's uuid (known once started). */
  uuid(): string;
  /** The UAA the Director advertises and trusts. */
  uaaUrl: string;
  /** Where the Director listens (for answers that name it when the client's `Host` does not). */
  url(): string;
  /** The port sim masters serve the Kubernetes API on (for the full instance listing). */
  kubePort: number;
  /** The certificates the Director serves with, by the job property BOSH names them with. */
  certificates(): { path: string; pem: string }[];
  /** Starts a task and answers 302 to it, as BOSH answers every request that makes a task. */
  enqueue(
    req: IncomingMessage,
    res: ServerResponse,
    type: TaskType,
    description: string,
    deployment: string | undefined,
    params: Record<string, unknown>,
  ): Promise<void>;
  /** Whether the Director is stopping (long answers, such as event streams, end). */
  stopping(): boolean;
}

type AuthenticatedRequest = IncomingMessage & { boshUser?: string | undefined };

/** Records who the request comes from (the door does, once the token is verified). */
export function setUser(req: IncomingMessage, user: string | undefined): void {
  (req as AuthenticatedRequest).boshUser = user;
}

/** The user BOSH names in tasks and events for this request. */
export function userOf(req: IncomingMessage): string | undefined {
  return (req as AuthenticatedRequest).boshUser;
}

/** The `X-Bosh-Context-Id` a client tags its tasks with. */
export function contextIdOf(req: IncomingMessage): string | undefined {
  const header = req.headers['x-bosh-context-id'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** A task id from a path, or BOSH's TaskNotFound. */
export function taskId(text: string): number {
  const id = Number(text);
  if (!Number.isInteger(id) || id < 1) throw taskNotFound(text);
  return id;
}

/** BOSH answers some parameter errors with a bare text body (Sinatra `body(...)`). */
export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(text);
}

/** A deployment exists once deployed, or while a failed first deploy left instances behind. */
export async function requireDeployment(context: RouteContext, name: string): Promise<void> {
  if (!(await context.stores.deployments.exists(name))) throw deploymentNotFound(name);
}
