// Navigation model: the resource tree (web-ui.md §1.2) and breadcrumbs (§1.3).

import type { ReactNode } from 'react';
import {
  ApiOutlined,
  AppstoreOutlined,
  CalendarOutlined,
  CloudServerOutlined,
  CreditCardOutlined,
  DollarOutlined,
  FileTextOutlined,
  FolderOutlined,
  GlobalOutlined,
  HomeOutlined,
  InboxOutlined,
  KeyOutlined,
  ProfileOutlined,
  ProjectOutlined,
  SettingOutlined,
} from '@ant-design/icons';
import { S } from './strings';

export interface NavNode {
  key: string;
  title: string;
  icon?: ReactNode;
  /** Route of a page node; sections have none. */
  path?: string;
  children?: NavNode[];
  disabled?: boolean;
}

export const SECTION_PROJECTS = 'section:projects';
export const SECTION_RESOURCES = 'section:resources';
export const SECTION_WORKSPACE = 'section:workspace';

export const DEFAULT_EXPANDED = [SECTION_RESOURCES, SECTION_WORKSPACE];

export const NAV_TREE: NavNode[] = [
  { key: '/', title: S.tree.overview, icon: <HomeOutlined />, path: '/' },
  {
    key: SECTION_PROJECTS,
    title: S.tree.projects,
    icon: <ProfileOutlined />,
    children: [
      { key: 'projects:none', title: S.tree.noProjects, disabled: true },
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
];

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
export function locateRoute(pathname: string): { key: string | null; ancestors: string[] } {
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
  walk(NAV_TREE, []);
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

export function crumbsFor(pathname: string): Crumb[] {
  const parts = pathname.split('/').filter(Boolean);
  const c = S.crumbs;
  const t = S.tree;
  switch (parts[0]) {
    case undefined:
      return [{ title: c.overview }];
    case 'project':
      return [{ title: c.projects }, { title: decodeURIComponent(parts[1] ?? '') }];
    case 'bot':
      return [{ title: c.projects }, { title: decodeURIComponent(parts[1] ?? '').replace(/^bot-/, '').slice(0, 8) }];
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
    case 'archive':
      return [{ title: c.projects }, { title: c.archive }, { title: c.bannedHistory }];
    default:
      return [{ title: c.overview }];
  }
}
