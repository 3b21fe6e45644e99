// Navigation model: the resource tree (web-ui.md §1.2) and breadcrumbs (§1.3).

import type { ReactNode } from 'react';
import {
  ApiOutlined,
  AppstoreOutlined,
  CalendarOutlined,
  ClusterOutlined,
  CloudServerOutlined,
  CloudUploadOutlined,
  CreditCardOutlined,
  DollarOutlined,
  FileTextOutlined,
  FolderOutlined,
  GlobalOutlined,
  HomeOutlined,
  InboxOutlined,
  KeyOutlined,
  LockOutlined,
  ProfileOutlined,
  PlusOutlined,
  ProjectOutlined,
  SafetyCertificateOutlined,
  SafetyOutlined,
  SettingOutlined,
} from '@ant-design/icons';
import { BOT_STATUSES, type Bot, type BotStatus, type BotSummary } from './api/bots';
import type { ProjectInfo } from './api/projects';
import { STATUS_COLORS, fleetCounts, id8, projectList, storedStatus } from './botStatus';
import { S } from './strings';

export interface NavNode {
  key: string;
  title: string;
  icon?: ReactNode;
  /** Route of a page node; sections have none. */
  path?: string;
  children?: NavNode[];
  disabled?: boolean;
  /** Has children that load when it is expanded (a status group's bots). */
  lazy?: boolean;
}

export const SECTION_PROJECTS = 'section:projects';
export const SECTION_RESOURCES = 'section:resources';
export const SECTION_WORKSPACE = 'section:workspace';
export const SECTION_ADMIN = 'section:admin';

/** Settings with the "New project" dialog open. */
export const NEW_PROJECT_PATH = '/settings?project=new';

export const DEFAULT_EXPANDED = [SECTION_RESOURCES, SECTION_WORKSPACE];

export const NAV_TREE: NavNode[] = [
  { key: '/', title: S.tree.overview, icon: <HomeOutlined />, path: '/' },
  {
    key: SECTION_PROJECTS,
    title: S.tree.projects,
    icon: <ProfileOutlined />,
    children: [
      // With no project yet, the branch offers the first one (Settings → Projects opens its dialog).
      { key: 'projects:none', title: S.tree.newProject, icon: <PlusOutlined />, path: NEW_PROJECT_PATH },
      { key: '/archive/banned', title: S.tree.archive, icon: <InboxOutlined />, path: '/archive/banned' },
    ],
  },
  {
    key: SECTION_RESOURCES,
    title: S.tree.resources,
    icon: <AppstoreOutlined />,
    children: [
      { key: '/licenses', title: S.tree.licenses, icon: <KeyOutlined />, path: '/licenses' },
      { key: '/proxies', title: S.tree.proxies, icon: <GlobalOutlined />, path: '/proxies' },
      { key: '/subscriptions', title: S.tree.subscriptions, icon: <CreditCardOutlined />, path: '/subscriptions' },
      { key: '/vms', title: S.tree.vms, icon: <CloudServerOutlined />, path: '/vms' },
    ],
  },
  {
    key: SECTION_WORKSPACE,
    title: S.tree.workspace,
    icon: <FolderOutlined />,
    children: [
      { key: '/notes', title: S.tree.notes, icon: <FileTextOutlined />, path: '/notes' },
      { key: '/workspace/calendar', title: S.tree.calendar, icon: <CalendarOutlined />, path: '/workspace/calendar' },
      { key: '/workspace/kanban', title: S.tree.kanban, icon: <ProjectOutlined />, path: '/workspace/kanban' },
    ],
  },
  { key: '/finance', title: S.tree.finance, icon: <DollarOutlined />, path: '/finance' },
  { key: '/settings', title: S.tree.settings, icon: <SettingOutlined />, path: '/settings' },
  { key: '/agents', title: S.tree.agents, icon: <ApiOutlined />, path: '/agents' },
  { key: '/datacenter', title: S.tree.datacenter, icon: <ClusterOutlined />, path: '/datacenter' },
  {
    key: SECTION_ADMIN,
    title: S.tree.admin,
    icon: <SafetyOutlined />,
    children: [
      { key: '/admin/secrets', title: S.tree.secrets, icon: <LockOutlined />, path: '/admin/secrets' },
      { key: '/admin/artifacts', title: S.tree.artifacts, icon: <CloudUploadOutlined />, path: '/admin/artifacts' },
      { key: '/admin/leases', title: S.tree.leases, icon: <SafetyCertificateOutlined />, path: '/admin/leases' },
    ],
  },
];

/** Whether these roles see the Administration section (its pages answer admins only). */
export const isAdmin = (roles: readonly string[] | undefined): boolean => roles?.includes('admin') ?? false;

/** What the shell knows of the tenant's bots: the tree's project branch and the crumbs. */
export interface NavData {
  projects: Record<string, ProjectInfo> | null;
  /** Counts by project × status × presence (GET /bots/summary): the tree's first levels. */
  summary: BotSummary;
  /** The bots of the status groups loaded so far, by group key; the others load on expand. */
  groups?: Record<string, GroupBots>;
  /** The bot of a /bot/:id route, for its crumbs. */
  bot?: Bot;
}

/** One status group's first page of bots and how many the group holds. */
export interface GroupBots {
  bots: Bot[];
  total: number;
}

export const projectKey = (id: string) => `/project/${encodeURIComponent(id)}`;
export const groupKey = (projectId: string, status: BotStatus) => `${projectKey(projectId)}?status=${status}`;

/** The project and status of a status group's key, or undefined for any other key. */
export function parseGroupKey(key: string): { projectId: string; status: BotStatus } | undefined {
  const m = /^\/project\/([^?]+)\?status=([a-z_]+)$/.exec(key);
  const status = m?.[2] as BotStatus | undefined;
  return m && status && BOT_STATUSES.includes(status) ? { projectId: decodeURIComponent(m[1]!), status } : undefined;
}

/** "character (VM or No VM) - id8", as the tree names a bot. */
const treeBotTitle = (b: Bot) => `${b.character?.name || S.bot.unnamed} (${b.name || S.bot.noVm}) - ${id8(b.id)}`;

/**
 * The tree with its Projects branch filled (web-ui.md §1.2): per project
 * "name (n)", its non-empty lifecycle status groups "Status (n)" limited to `visible`,
 * and, once a group is expanded and loaded, its bots, each icon colored by status. The
 * Administration section only for admins.
 */
export function navTree(data: NavData | undefined, visible: readonly BotStatus[], admin = false): NavNode[] {
  const base = admin ? NAV_TREE : NAV_TREE.filter((n) => n.key !== SECTION_ADMIN);
  if (!data) return base;
  const projects = projectList(data.projects, data.summary.groups).map((p): NavNode => {
    const counts = fleetCounts(data.summary, p.id);
    const groups = BOT_STATUSES.filter((s) => visible.includes(s) && counts.byStatus[s] > 0).map((status): NavNode => {
      const key = groupKey(p.id, status);
      const loaded = data.groups?.[key];
      const dot = <span className="bm-tree-dot" style={{ background: STATUS_COLORS[status] }} />;
      const children = loaded?.bots.map((b) => ({ key: `/bot/${encodeURIComponent(b.id)}`, title: treeBotTitle(b), icon: dot, path: `/bot/${encodeURIComponent(b.id)}` }));
      if (loaded && children && loaded.total > children.length) {
        children.push({ key: `${key}&more`, title: S.tree.moreBots(loaded.total - children.length), icon: dot, path: key });
      }
      return { key, title: `${S.botStatus[status]} (${counts.byStatus[status]})`, path: key, children, lazy: !loaded };
    });
    return { key: projectKey(p.id), title: `${p.name} (${counts.total})`, icon: <ProfileOutlined />, path: projectKey(p.id), children: groups.length ? groups : undefined };
  });
  return base.map((n) =>
    n.key === SECTION_PROJECTS ? { ...n, children: [...(projects.length ? projects : n.children!.slice(0, 1)), n.children![1]] } : n,
  );
}

export function allSectionKeys(nodes: NavNode[] = NAV_TREE): string[] {
  const out: string[] = [];
  for (const n of nodes) {
    if (n.children?.length) {
      out.push(n.key);
      out.push(...allSectionKeys(n.children));
    }
  }
  return out;
}

/** The tree node of a route and its ancestor sections (root first). */
export function locateRoute(pathname: string, tree: NavNode[] = NAV_TREE): { key: string | null; ancestors: string[] } {
  let best: { key: string; ancestors: string[]; len: number } | null = null;
  const walk = (nodes: NavNode[], ancestors: string[]) => {
    for (const n of nodes) {
      if (n.path) {
        const match =
          n.path === '/' ? pathname === '/' : pathname === n.path || pathname.startsWith(n.path + '/');
        if (match && (!best || n.path.length > best.len)) {
          best = { key: n.key, ancestors, len: n.path.length };
        }
      }
      if (n.children) walk(n.children, [...ancestors, n.key]);
    }
  };
  walk(tree, []);
  const found = best as { key: string; ancestors: string[]; len: number } | null;
  return found ? { key: found.key, ancestors: found.ancestors } : { key: null, ancestors: [] };
}

export interface Crumb {
  title: string;
  to?: string;
}

const SITE_NAMES: Record<string, string> = {
  proxmox: 'Proxmox',
  tinyfm: 'TinyFileManager',
  syncthing: 'SyncThing',
};

const ADMIN_PAGES: Record<string, string> = {
  secrets: S.tree.secrets,
  artifacts: S.tree.artifacts,
  leases: S.tree.leases,
};

export function crumbsFor(pathname: string, search = '', data?: NavData): Crumb[] {
  const parts = pathname.split('/').filter(Boolean);
  const projectName = (id: string) => projectList(data?.projects, data?.summary.groups).find((p) => p.id === id)?.name ?? id;
  const c = S.crumbs;
  const t = S.tree;
  switch (parts[0]) {
    case undefined:
      return [{ title: c.overview }];
    case 'project': {
      const id = decodeURIComponent(parts[1] ?? '');
      const status = new URLSearchParams(search).get('status') as BotStatus | null;
      const crumbs: Crumb[] = [{ title: c.projects }, { title: projectName(id) }];
      return status && S.botStatus[status] ? [...crumbs, { title: S.botStatus[status] }] : crumbs;
    }
    case 'bot': {
      const id = decodeURIComponent(parts[1] ?? '');
      const bot = data?.bot?.id === id ? data.bot : undefined;
      if (!bot?.project_id) return [{ title: c.projects }, { title: id8(id) }];
      return [
        { title: c.projects },
        { title: projectName(bot.project_id), to: projectKey(bot.project_id) },
        { title: S.botStatus[storedStatus(bot)] },
        { title: `${bot.character?.name || S.bot.unnamed} (${bot.name || S.bot.noVm})_${id8(id)}` },
      ];
    }
    case 'licenses':
      return [{ title: c.resources }, { title: t.licenses }];
    case 'proxies':
      return [{ title: c.resources }, { title: t.proxies }];
    case 'subscriptions':
      return [{ title: c.resources }, { title: t.subscriptions }];
    case 'vms':
      if (parts[1] === 'sites') {
        return [
          { title: c.resources },
          { title: t.vms, to: '/vms' },
          { title: c.sites },
          { title: SITE_NAMES[parts[2] ?? ''] ?? parts[2] ?? '' },
        ];
      }
      return [{ title: c.resources }, { title: t.vms }];
    case 'notes':
      return [{ title: c.workspace }, { title: t.notes }];
    case 'workspace':
      return [{ title: c.workspace }, { title: parts[1] === 'kanban' ? t.kanban : t.calendar }];
    case 'finance':
      return [{ title: t.finance }];
    case 'settings':
      return [{ title: t.settings }];
    case 'account':
      return [{ title: t.settings, to: '/settings' }, { title: S.account.title }];
    case 'audit':
      return [{ title: t.settings, to: '/settings' }, { title: S.audit.title }];
    case 'agents':
      return [{ title: t.agents }];
    case 'datacenter':
      return [{ title: t.datacenter }];
    case 'archive':
      return [{ title: c.projects }, { title: c.archive }, { title: c.bannedHistory }];
    case 'admin': {
      const page = ADMIN_PAGES[parts[1] ?? ''];
      return page ? [{ title: t.admin }, { title: page }] : [{ title: t.admin }];
    }
    default:
      return [{ title: c.overview }];
  }
}
