import type { IncomingMessage, ServerResponse } from 'node:http';
import { UaaError } from '../errors.js';
import { sendError } from './io.js';

export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  params: Record<string, string>;
}

export type RouteHandler = (ctx: RouteContext) => Promise<void> | void;

interface Route {
  method: string;
  pattern: RegExp;
  names: string[];
  handler: RouteHandler;
}

/** A small method + path router; `:name` segments become params. */
export class Router {
  private readonly routes: Route[] = [];

  on(methods: string | string[], path: string, handler: RouteHandler): this {
    const names: string[] = [];
    const pattern = new RegExp(
      `^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:(\w+)/g, (_, name: string) => {
        names.push(name);
        return '([^/]+)';
      })}/?$`,
    );
    for (const method of Array.isArray(methods) ? methods : [methods]) {
      this.routes.push({ method, pattern, names, handler });
    }
    return this;
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    onError: (error: unknown) => UaaError,
  ): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://uaa.invalid');
    const matching = this.routes.filter((route) => route.pattern.test(url.pathname));
    try {
      if (matching.length === 0) throw new UaaError(404, 'not_found', `No resource at ${url.pathname}`);
      const route =
        matching.find((r) => r.method === req.method) ??
        (req.method === 'HEAD' ? matching.find((r) => r.method === 'GET') : undefined);
      if (!route) {
        throw new UaaError(405, 'method_not_allowed', `Request method '${req.method}' not supported`, {
          headers: { Allow: [...new Set(matching.map((r) => r.method))].join(', ') },
        });
      }
      const match = route.pattern.exec(url.pathname)!;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => {
        params[name] = decodeURIComponent(match[i + 1]!);
      });
      await route.handler({ req, res, url, params });
    } catch (error) {
      if (res.headersSent) throw error;
      sendError(res, onError(error));
    }
  }
}
