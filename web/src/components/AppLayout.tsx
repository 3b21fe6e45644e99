// Application shell (web-ui.md §1.1): dark slate header, resource tree, routed content.

import { Suspense, useCallback, useEffect, useState, useSyncExternalStore } from 'react';
import { Link, Outlet, useLocation, useNavigate } from 'react-router';
import { Alert, Avatar, Breadcrumb, Button, Drawer, Dropdown, Switch, Tooltip, type MenuProps } from 'antd';
import {
  ArrowLeftOutlined,
  BulbOutlined,
  DownOutlined,
  LogoutOutlined,
  MenuOutlined,
  MoonOutlined,
  SettingOutlined,
  UserOutlined,
} from '@ant-design/icons';
import { botsApi, type Bot } from '../api/bots';
import { projectSettingsApi } from '../api/projects';
import { useChanges, useLive } from '../hooks';
import { VERIFY_MAX_AGE_MS, authApi } from '../api/endpoints';
import { useSession } from '../api/session';
import { useStorageFull } from '../api/storage';
import { crumbsFor, type NavData } from '../nav';
import { S } from '../strings';
import { setThemeMode, useThemeMode } from '../theme';
import PageSpinner from './PageSpinner';
import ResourceTree from './ResourceTree';

const NAV_TOPICS = ['bots', 'settings/projects'];
// Below antd's md breakpoint the tree would leave the content no room: it moves into a drawer.
const PHONE_QUERY = '(max-width: 767.98px)';

/** Whether the window is phone-narrow, following resizes and rotations. */
function usePhoneWidth(): boolean {
  return useSyncExternalStore(
    (onChange) => {
      const mq = window.matchMedia(PHONE_QUERY);
      mq.addEventListener('change', onChange);
      return () => mq.removeEventListener('change', onChange);
    },
    () => window.matchMedia(PHONE_QUERY).matches,
  );
}

/** Re-checks the session with whoami when the last check is older than `VERIFY_MAX_AGE_MS`. */
function useSessionVerification() {
  useEffect(() => {
    const check = () => {
      if (document.visibilityState !== 'visible') return;
      void authApi.verify().catch(() => {
        // A 401 is handled by the API client; other errors keep the session.
      });
    };
    check();
    const timer = window.setInterval(check, VERIFY_MAX_AGE_MS);
    document.addEventListener('visibilitychange', check);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener('visibilitychange', check);
    };
  }, []);
}

function ThemeSwitch() {
  const mode = useThemeMode();
  const dark = mode === 'dark';
  const label = dark ? S.header.darkTheme : S.header.lightTheme;
  return (
    <Tooltip title={label}>
      <Switch
        className="bm-theme-switch"
        checked={dark}
        aria-label={S.header.darkTheme}
        checkedChildren={<MoonOutlined />}
        unCheckedChildren={<BulbOutlined />}
        onChange={(on) => setThemeMode(on ? 'dark' : 'light')}
      />
    </Tooltip>
  );
}

function UserMenu() {
  const session = useSession();
  const navigate = useNavigate();
  const [busy, setBusy] = useState(false);
  const email = session?.user.email ?? '';

  const signOut = async () => {
    if (busy) return;
    setBusy(true);
    try {
      await authApi.logout();
    } finally {
      setBusy(false);
      navigate('/login', { replace: true });
    }
  };

  const items: MenuProps['items'] = [
    { key: 'account', icon: <UserOutlined />, label: S.header.account },
    { key: 'settings', icon: <SettingOutlined />, label: S.header.settings },
    { type: 'divider' },
    { key: 'signout', icon: <LogoutOutlined />, label: S.header.signOut, danger: true },
  ];

  return (
    <Dropdown
      trigger={['click']}
      placement="bottomRight"
      menu={{
        items,
        onClick: ({ key }) => {
          if (key === 'account') navigate('/account');
          if (key === 'settings') navigate('/settings');
          if (key === 'signout') void signOut();
        },
      }}
    >
      <button type="button" className="bm-user-btn" aria-label={`${S.header.userMenu}: ${email}`} aria-haspopup="menu">
        <Avatar size={22} icon={<UserOutlined />} className="bm-user-avatar" />
        <span className="bm-user-email" data-testid="header-email">
          {email}
        </span>
        <DownOutlined className="bm-user-caret" />
      </button>
    </Dropdown>
  );
}

/** The bot a /bot/:id route shows (its crumbs name it), reloaded when it changes. */
function useRouteBot(pathname: string): Bot | undefined {
  const id = /^\/bot\/([^/]+)/.exec(pathname)?.[1];
  const botId = id ? decodeURIComponent(id) : undefined;
  const [bot, setBot] = useState<Bot>();
  const [version, setVersion] = useState(0);
  useChanges(botId ? [`bots/${botId}`] : [], () => setVersion((v) => v + 1));
  useEffect(() => {
    if (!botId) return;
    let live = true;
    botsApi.get(botId).then(
      (b) => live && setBot(b),
      () => live && setBot(undefined),
    );
    return () => {
      live = false;
    };
  }, [botId, version]);
  return botId && bot?.id === botId ? bot : undefined;
}

export default function AppLayout() {
  const location = useLocation();
  const navigate = useNavigate();
  // Projects and the fleet's counts for the tree's first levels and the crumbs, reloaded when
  // the change feed reports a bot or project change (a status group's bots load on expand).
  const loadNav = useCallback(
    () => Promise.all([projectSettingsApi.projects(), botsApi.summary()]).then(([projects, summary]) => ({ projects, summary })),
    [],
  );
  const nav = useLive(loadNav, NAV_TOPICS).data;
  const bot = useRouteBot(location.pathname);
  const navData: NavData | undefined = nav && { ...nav, bot };
  const crumbs = crumbsFor(location.pathname, location.search, navData);
  useSessionVerification();
  const storageFull = useStorageFull();
  const phone = usePhoneWidth();
  const [navOpen, setNavOpen] = useState(false);
  // Picking a page in the drawer is the end of navigating: the drawer gets out of the way.
  useEffect(() => setNavOpen(false), [location.pathname, location.search]);

  return (
    <div className="bm-shell">
      <header className="bm-header">
        {phone && (
          <Button
            type="text"
            className="bm-header-btn"
            aria-label={S.header.openNav}
            aria-expanded={navOpen}
            icon={<MenuOutlined />}
            onClick={() => setNavOpen(true)}
          />
        )}
        <Tooltip title={S.header.back}>
          <Button
            type="text"
            className="bm-header-btn"
            aria-label={S.header.back}
            icon={<ArrowLeftOutlined />}
            onClick={() => navigate(-1)}
          />
        </Tooltip>
        <Breadcrumb
          className="bm-crumbs"
          items={crumbs.map((c) => ({
            title: c.to ? <Link to={c.to}>{c.title}</Link> : c.title,
          }))}
        />
        <span className="bm-header-spacer" />
        <ThemeSwitch />
        <UserMenu />
      </header>
      {storageFull && <Alert type="error" banner showIcon message={S.common.storageFull} data-testid="storage-full" />}
      <div className="bm-body">
        {phone ? (
          <Drawer
            placement="left"
            open={navOpen}
            onClose={() => setNavOpen(false)}
            title={S.tree.panel}
            width="min(320px, calc(100vw - 48px))"
            className="bm-nav-drawer"
          >
            <ResourceTree data={navData} inDrawer />
          </Drawer>
        ) : (
          <ResourceTree data={navData} />
        )}
        <main className="bm-content">
          <Suspense fallback={<PageSpinner />}>
            <Outlet />
          </Suspense>
        </main>
      </div>
    </div>
  );
}
