import { getToken } from 'next-auth/jwt';
import type { NextRequest } from 'next/server';
import { apiUrl, consoleUrl } from '@/lib/auth';

// GraphQL queries and mutations go through here: the access token stays in the encrypted session
// cookie and is added on the server, so HTTP calls need no token in the page and no trust in the API's
// certificate in the browser. (Subscriptions use the WebSocket the console's server passes through.)

export const dynamic = 'force-dynamic';

function graphQLError(status: number, code: string, message: string): Response {
  return Response.json({ errors: [{ message, extensions: { code } }] }, { status });
}

export async function POST(req: NextRequest): Promise<Response> {
  // Only the console's own pages: a cross-site form or fetch cannot ride on the session cookie.
  const origin = req.headers.get('origin');
  if (origin !== null && origin !== new URL(consoleUrl()).origin)
    return graphQLError(403, 'FORBIDDEN', 'cross-origin GraphQL requests are not accepted');
  if (!(req.headers.get('content-type') ?? '').includes('application/json'))
    return graphQLError(415, 'BAD_USER_INPUT', 'GraphQL requests must be application/json');
  const token = await getToken({
    req,
    secret: process.env.NEXTAUTH_SECRET,
    secureCookie: consoleUrl().startsWith('https://'),
  });
  if (!token?.accessToken || token.error)
    return graphQLError(401, 'UNAUTHENTICATED', 'your session has ended; sign in again');
  const upstream = await fetch(`${apiUrl()}/graphql`, {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      Accept: 'application/graphql-response+json, application/json',
      Authorization: `Bearer ${token.accessToken}`,
    },
    body: await req.text(),
    cache: 'no-store',
  }).catch((error: unknown) => error as Error);
  if (upstream instanceof Error)
    return graphQLError(502, 'INTERNAL', `the PKS API cannot be reached: ${upstream.message}`);
  return new Response(upstream.body, {
    status: upstream.status,
    headers: {
      'Content-Type': upstream.headers.get('content-type') ?? 'application/json',
      'Cache-Control': 'no-store',
    },
  });
}
