import { useEffect, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { clearSession, isExpired, useSession } from '../api/session';

/** Renders its children only with a live session; otherwise → /login. */
export default function RequireSession({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  const expired = session !== null && isExpired(session);
  useEffect(() => {
    if (expired) clearSession();
  }, [expired]);
  if (!session || expired) {
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <>{children}</>;
}
