import NextAuth from 'next-auth';
import type { NextRequest } from 'next/server';
import { authOptions } from '@/lib/auth';

type Context = { params: Promise<{ nextauth: string[] }> };

// Built per request from authOptions(): the UAA URL and the secret come from the environment at run time.
async function handler(req: NextRequest, context: Context): Promise<Response> {
  return (NextAuth(authOptions()) as (req: NextRequest, context: Context) => Promise<Response>)(req, context);
}

export { handler as GET, handler as POST };
