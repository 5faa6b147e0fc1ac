'use client';

import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { signOut, useSession } from 'next-auth/react';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { capabilitiesOf, PKS_SCOPES } from '@/lib/scopes';
import { useFeedConnection } from './FleetFeed';

/** The frame of every page: skip link, navigation by what the user's scopes allow, the user menu. */
export function Shell({ logoutUrl, children }: { logoutUrl: string; children: ReactNode }) {
  const { data: session } = useSession();
  const scopes = session?.scopes ?? [];
  const can = capabilitiesOf(scopes);
  const pathname = usePathname();
  const links: { href: string; label: string; show: boolean }[] = [
    { href: '/clusters', label: 'Clusters', show: true },
    { href: '/plans', label: 'Plans', show: true },
    { href: '/network-profiles', label: 'Network profiles', show: true },
    { href: '/upgrades', label: 'Upgrades', show: can.changes },
    { href: '/quotas', label: 'Quotas', show: can.readsAll },
    { href: '/audit', label: 'Audit log', show: can.admin },
    { href: '/explorer', label: 'GraphQL explorer', show: true },
  ];
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link href="/clusters" className="brand">
          openpks
        </Link>
        <nav aria-label="Main">
          <ul>
            {links
              .filter((l) => l.show)
              .map((l) => (
                <li key={l.href}>
                  <Link href={l.href} aria-current={pathname.startsWith(l.href) ? 'page' : undefined}>
                    {l.label}
                  </Link>
                </li>
              ))}
          </ul>
        </nav>
        <UserMenu
          name={session?.user?.name ?? 'signed in'}
          scopes={scopes.filter((s) => (PKS_SCOPES as readonly string[]).includes(s))}
          logoutUrl={logoutUrl}
        />
      </header>
      <LiveBanner />
      <main id="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

/** Says so while live updates are interrupted: what the page shows may be out of date until they return. */
function LiveBanner() {
  const { connection, stopReason, retry } = useFeedConnection();
  if (connection === 'down')
    return (
      <p className="live-banner" role="status">
        Live updates paused — reconnecting… The page will catch up by itself.
      </p>
    );
  if (connection === 'stopped')
    return (
      <div className="live-banner bad" role="alert">
        <span>Live updates stopped{stopReason ? ` (${stopReason})` : ''}; the page may be out of date.</span>{' '}
        <button type="button" className="button small" onClick={retry}>
          Reconnect
        </button>
      </div>
    );
  return null;
}

function UserMenu({ name, scopes, logoutUrl }: { name: string; scopes: string[]; logoutUrl: string }) {
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') {
        setOpen(false);
        ref.current?.querySelector('button')?.focus();
      }
    };
    const onClick = (e: MouseEvent) => {
      if (!ref.current?.contains(e.target as Node)) setOpen(false);
    };
    document.addEventListener('keydown', onKey);
    document.addEventListener('click', onClick);
    return () => {
      document.removeEventListener('keydown', onKey);
      document.removeEventListener('click', onClick);
    };
  }, [open]);
  return (
    <div className="user-menu" ref={ref}>
      <button
        type="button"
        className="button ghost"
        aria-expanded={open}
        aria-controls="user-menu-panel"
        onClick={() => setOpen((o) => !o)}
      >
        <span className="visually-hidden">User menu for </span>
        {name}
      </button>
      <div id="user-menu-panel" className="user-menu-panel" hidden={!open}>
        <p className="muted">Signed in as</p>
        <p className="user-name">{name}</p>
        <p className="muted">PKS scopes</p>
        {scopes.length > 0 ? (
          <ul className="scope-list" aria-label="PKS scopes">
            {scopes.map((s) => (
              <li key={s}>
                <code>{s}</code>
              </li>
            ))}
          </ul>
        ) : (
          <p>No PKS scope: ask an operator for pks.clusters.manage.</p>
        )}
        <button
          type="button"
          className="button"
          onClick={() => {
            // Ends the console session, then UAA's (logout.do returns to the console's sign-in page).
            void signOut({ callbackUrl: logoutUrl });
          }}
        >
          Sign out
        </button>
      </div>
    </div>
  );
}
