import type { ReactNode } from 'react';
import { S } from '../strings';

/** Page frame of the signed-out screens: the slate header bar and a centred card. */
export default function AuthFrame({ children }: { children: ReactNode }) {
  return (
    <div className="bm-auth-page">
      <header className="bm-header bm-auth-header">
        <img className="bm-brand-logo" src="/favicon.svg" alt="" width={22} height={22} />
        <span className="bm-brand-name">{S.appName}</span>
      </header>
      <main className="bm-auth-main">{children}</main>
    </div>
  );
}
