/**
 * Where a browser may be sent after sign-in: a path on the UAA itself, or nowhere (the caller falls back to
 * the landing page). `/login?redirect=` is attacker-controlled, so anything a browser could read as another
 * origin — `//host`, `/\host`, `/<tab>/host`, `https:host`, encoded forms of those — must be refused.
 */
export function localRedirect(value: string | null | undefined, ownOrigin: string): string | undefined {
  if (!value) return undefined;
  // CR/LF would split the Location header, and browsers drop tab/CR/LF before parsing, so `/\t/evil` is
  // `//evil` to them; no legitimate target carries a control character, raw or percent-encoded.
  if (
    [...value].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f) ||
    /%(?:[01][0-9a-f]|7f)/i.test(value)
  )
    return undefined;
  // Parse what the browser would parse, so the checks below still hold if the rule above is ever loosened.
  const stripped = value.replace(/[\t\n\r]/g, '');
  if (!singleSlashPath(value) || !singleSlashPath(stripped)) return undefined;
  // A path that decodes to `//host` or `/\host` would become one if any hop (proxy, framework) decodes it.
  const path = stripped.split(/[?#]/, 1)[0]!;
  let decodedPath: string;
  try {
    decodedPath = decodeURIComponent(path);
  } catch {
    return undefined;
  }
  if (!singleSlashPath(decodedPath) || decodedPath.includes('\\')) return undefined;
  let target: URL;
  try {
    target = new URL(stripped, ownOrigin);
  } catch {
    return undefined;
  }
  if (target.origin !== new URL(ownOrigin).origin) return undefined;
  // Send the browser the parser's serialisation, not the raw input, so it follows exactly what was checked.
  return `${target.pathname}${target.search}${target.hash}`;
}

function singleSlashPath(value: string): boolean {
  return value.startsWith('/') && value[1] !== '/' && value[1] !== '\\';
}
