import { useEffect, type ReactNode } from 'react';
import { Navigate, useLocation } from 'react-router';
import { clearSession, isExpired, useSession } from '../api/session';
import { useSetupNeeded } from '../hooks';
import PageSpinner from './PageSpinner';

/** Renders its children only with a live session; otherwise → /setup while no
 * admin exists yet (first visit), else → /login. */
export default function RequireSession({ children }: { children: ReactNode }) {
  const session = useSession();
  const location = useLocation();
  const expired = session !== null && isExpired(session);
  const signedOut = !session || expired;
  const setupNeeded = useSetupNeeded(signedOut);
  useEffect(() => {
    if (expired) clearSession();
  }, [expired]);
  if (signedOut) {
    if (setupNeeded === undefined) return <PageSpinner />;
    if (setupNeeded) return <Navigate to="/setup" replace />;
    return <Navigate to="/login" replace state={{ from: location.pathname + location.search }} />;
  }
  return <>{children}</>;
}
