import type { HttpsFetchInit } from './httpsFetch.js';

type Fetch = (url: string | URL, init?: HttpsFetchInit) => Promise<Response>;

/**
 * A browser at HTTP level: keeps cookies per name (no domain logic: one origin in tests), follows nothing
 * by itself so tests can look at each redirect, and reads forms back from the login page.
 */
export class TestBrowser {
  readonly cookies = new Map<string, string>();

  constructor(private readonly fetch: Fetch) {}

  async request(url: string | URL, init: HttpsFetchInit = {}): Promise<Response> {
    const headers: Record<string, string> = {
      ...((init.headers as Record<string, string> | undefined) ?? {}),
    };
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const response = await this.fetch(url, { ...init, headers });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const index = pair!.indexOf('=');
      const name = pair!.slice(0, index).trim();
      const value = pair!.slice(index + 1).trim();
      if (value === '' || attributes.some((a) => /^\s*max-age=0\s*$/i.test(a))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects while they stay on `origin`; returns the first response that leaves it or is final. */
  async follow(url: string | URL, origin: string, init: HttpsFetchInit = {}): Promise<Response> {
    let response = await this.request(url, init);
    let current = new URL(url);
    for (let hops = 0; hops < 10 && response.status >= 300 && response.status < 400; hops++) {
      const next = new URL(response.headers.get('location')!, current);
      if (next.origin !== origin) return response;
      current = next;
      response = await this.request(next);
    }
    return response;
  }
}

/** The value of a named hidden input in an HTML form. */
export function hiddenInput(html: string, name: string): string | undefined {
  const match = new RegExp(`<input type="hidden" name="${name}" value="([^"]*)"`).exec(html);
  return match?.[1]?.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)));
}
