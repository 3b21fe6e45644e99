// Providers (antd theme, message API) and routes (web-ui.md §1.4).

import { lazy, Suspense, useEffect, useMemo } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useNavigate } from 'react-router';
import { App as AntApp, ConfigProvider } from 'antd';
import { setUnauthorizedHandler } from './api/client';
import PageSpinner from './components/PageSpinner';
import RequireSession from './components/RequireSession';
import ThemeBackground from './pages/settings/background';
import { antdThemeConfig, useThemeLook, useThemeMode } from './theme';

const AppLayout = lazy(() => import('./components/AppLayout'));
const LoginPage = lazy(() => import('./pages/LoginPage'));
const SetupPage = lazy(() => import('./pages/SetupPage'));
const OverviewPage = lazy(() => import('./pages/overview/OverviewPage'));
const ProjectPage = lazy(() => import('./pages/projects/ProjectPage'));
const BotPage = lazy(() => import('./pages/bots/BotPage'));
const ArchivePage = lazy(() => import('./pages/bots/ArchivePage'));
const LicensesPage = lazy(() => import('./pages/resources/LicensesPage'));
const ProxiesPage = lazy(() => import('./pages/resources/ProxiesPage'));
const SubscriptionsPage = lazy(() => import('./pages/resources/SubscriptionsPage'));
const NotesPage = lazy(() => import('./pages/workspace/NotesPage'));
const CalendarPage = lazy(() => import('./pages/workspace/CalendarPage'));
const KanbanPage = lazy(() => import('./pages/workspace/KanbanPage'));
const FinancePage = lazy(() => import('./pages/finance/FinancePage'));
const SettingsPage = lazy(() => import('./pages/settings/SettingsPage'));
const AccountPage = lazy(() => import('./pages/account/AccountPage'));
const AuditPage = lazy(() => import('./pages/audit/AuditPage'));
const AgentsPage = lazy(() => import('./pages/agents/AgentsPage'));
const VmsPage = lazy(() => import('./pages/vms/VmsPage'));
const DatacenterPage = lazy(() => import('./pages/datacenter/DatacenterPage'));
const SitesPage = lazy(() => import('./pages/sites/SitesPage'));
const SecretsPage = lazy(() => import('./pages/secrets/SecretsPage'));
const ArtifactsPage = lazy(() => import('./pages/artifacts/ArtifactsPage'));
const LeasesPage = lazy(() => import('./pages/leases/LeasesPage'));

function UnauthorizedRedirect() {
  const navigate = useNavigate();
  useEffect(() => {
    setUnauthorizedHandler(() => {
      if (window.location.pathname !== '/login') navigate('/login', { replace: true });
    });
  }, [navigate]);
  return null;
}

export default function App() {
  const mode = useThemeMode();
  const look = useThemeLook();
  const themeConfig = useMemo(() => antdThemeConfig(mode, look), [mode, look]);
  return (
    <ConfigProvider theme={themeConfig}>
      <AntApp className="bm-app" message={{ maxCount: 3, top: 52 }}>
        <BrowserRouter>
          <UnauthorizedRedirect />
          <Suspense fallback={<PageSpinner />}>
            <Routes>
              <Route path="/login" element={<LoginPage />} />
              <Route path="/setup" element={<SetupPage />} />
              <Route
                element={
                  <RequireSession>
                    <ThemeBackground />
                    <AppLayout />
                  </RequireSession>
                }
              >
                <Route index element={<OverviewPage />} />
                <Route path="project/:id" element={<ProjectPage />} />
                <Route path="bot/:id" element={<BotPage />} />
                <Route path="licenses" element={<LicensesPage />} />
                <Route path="proxies" element={<ProxiesPage />} />
                <Route path="subscriptions" element={<SubscriptionsPage />} />
                <Route path="vms" element={<VmsPage />} />
                <Route path="vms/list" element={<Navigate to="/vms" replace />} />
                <Route path="vms/unattend-profiles" element={<Navigate to="/vms" replace />} />
                <Route path="vms/sites/:site" element={<SitesPage />} />
                <Route path="vms/proxmox" element={<Navigate to="/vms/sites/proxmox" replace />} />
                <Route path="vms/tinyfm" element={<Navigate to="/vms/sites/tinyfm" replace />} />
                <Route path="vms/syncthing" element={<Navigate to="/vms/sites/syncthing" replace />} />
                <Route path="notes" element={<NotesPage />} />
                <Route path="notes/reminders" element={<Navigate to="/workspace/calendar" replace />} />
                <Route path="workspace/calendar" element={<CalendarPage />} />
                <Route path="workspace/kanban" element={<KanbanPage />} />
                <Route path="finance" element={<FinancePage />} />
                <Route path="settings" element={<SettingsPage />} />
                <Route path="account" element={<AccountPage />} />
                <Route path="audit" element={<AuditPage />} />
                <Route path="agents" element={<AgentsPage />} />
                <Route path="datacenter" element={<DatacenterPage />} />
                <Route path="admin/secrets" element={<SecretsPage />} />
                <Route path="admin/artifacts" element={<ArtifactsPage />} />
                <Route path="admin/leases" element={<LeasesPage />} />
                <Route path="archive/banned" element={<ArchivePage />} />
                <Route path="*" element={<Navigate to="/" replace />} />
              </Route>
            </Routes>
          </Suspense>
        </BrowserRouter>
      </AntApp>
    </ConfigProvider>
  );
}
