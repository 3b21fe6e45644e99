// The admin screens' guard: the tree hides them from other users, and a URL opened anyway
// says plainly who the page is for instead of a wall of 403s.

import type { ReactNode } from 'react';
import { Result } from 'antd';
import { useSession } from '../api/session';
import { isAdmin } from '../nav';
import { S } from '../strings';
import './admin.css';

export default function AdminGate({ children }: { children: ReactNode }) {
  if (isAdmin(useSession()?.user.roles)) return <>{children}</>;
  return (
    <div className="bm-page">
      <div className="bm-page-inner">
        <Result status="403" title={<span data-testid="admin-only">{S.adminGate.title}</span>} subTitle={S.adminGate.text} />
      </div>
    </div>
  );
}
