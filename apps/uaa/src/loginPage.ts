/** The server-rendered pages: plain HTML with inline styles, no scripts and no external assets. */

function escape(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

const STYLE = `
  :root { color-scheme: light dark; font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
  body { margin: 0; min-height: 100vh; display: grid; place-items: center; background: Canvas; color: CanvasText; }
  main { box-sizing: border-box; width: min(24rem, 92vw); padding: 2rem; border: 1px solid GrayText; border-radius: 0.5rem; }
  h1 { font-size: 1.4rem; margin: 0 0 1.25rem; }
  label { display: block; font-weight: 600; margin: 1rem 0 0.35rem; }
  input { box-sizing: border-box; width: 100%; padding: 0.6rem; font: inherit; border: 1px solid GrayText; border-radius: 0.3rem; }
  input:focus-visible, button:focus-visible { outline: 3px solid Highlight; outline-offset: 2px; }
  button { margin-top: 1.5rem; width: 100%; padding: 0.7rem; font: inherit; font-weight: 600; border: 0; border-radius: 0.3rem;
           background: #1a5fb4; color: #fff; cursor: pointer; }
  .error { margin: 0 0 1rem; padding: 0.75rem; border-radius: 0.3rem; background: #fde8e8; color: #8b1c1c; border: 1px solid #8b1c1c; }
  .note { font-size: 0.9rem; }
`;

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface LoginPageOptions {
  csrfToken: string;
  /** Where to continue after signing in (a local path, e.g. back to /oauth/authorize). */
  redirect?: string;
  username?: string;
  error?: string;
}

export function loginPage({ csrfToken, redirect, username, error }: LoginPageOptions): string {
  return page(
    'Sign in – openpks UAA',
    `<h1 id="title">Sign in to openpks</h1>
${error ? `<p class="error" role="alert" id="login-error">${escape(error)}</p>` : ''}
<form method="post" action="/login.do" aria-labelledby="title"${error ? ' aria-describedby="login-error"' : ''}>
  <input type="hidden" name="X-Uaa-Csrf" value="${escape(csrfToken)}">
  ${redirect ? `<input type="hidden" name="form_redirect_uri" value="${escape(redirect)}">` : ''}
  <label for="username">Username</label>
  <input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required${username ? ` value="${escape(username)}"` : ' autofocus'}>
  <label for="password">Password</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required${username ? ' autofocus' : ''}>
  <button type="submit">Sign in</button>
</form>`,
  );
}

export function messagePage(title: string, message: string): string {
  return page(title, `<h1>${escape(title)}</h1>\n<p class="note">${escape(message)}</p>`);
}

export function homePage(username: string, csrfToken: string): string {
  return page(
    'openpks UAA',
    `<h1>openpks UAA</h1>
<p class="note">Signed in as <strong>${escape(username)}</strong>.</p>
<form method="post" action="/logout.do">
  <input type="hidden" name="X-Uaa-Csrf" value="${escape(csrfToken)}">
  <button type="submit">Sign out</button>
</form>`,
  );
}
