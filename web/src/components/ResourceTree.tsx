// Left panel: the resource tree (web-ui.md §1.2). Width 280 px (220–460,
// drag the divider, ←/→ ±16 px, Home/End, double-click resets), collapsible
// to a 48 px rail of root icons; width, collapsed flag and expanded sections
// and the status filters are remembered in browser storage only: they are a
// view preference, not a change anyone needs in the audit log (so nothing goes
// to the audited settings tree). The Projects branch lists each
// project, its status groups and bots (from the shell's NavData), narrowed by
// the "Bot filters" status chips. On a phone the shell shows it in a drawer
// (`inDrawer`): full drawer width, no rail, no divider.

import { useCallback, useEffect, useMemo, useRef, useState, type KeyboardEvent, type PointerEvent } from 'react';
import { useLocation, useNavigate } from 'react-router';
import { Button, Spin, Tag, Tooltip, Tree, type TreeDataNode } from 'antd';
import { FilterOutlined, MenuFoldOutlined, MenuUnfoldOutlined, MinusSquareOutlined, PlusSquareOutlined } from '@ant-design/icons';
import { BOT_STATUSES, botsApi, type BotStatus } from '../api/bots';
import { MAX_LIMIT } from '../api/lists';
import { STATUS_COLORS } from '../botStatus';
import { DEFAULT_EXPANDED, SECTION_PROJECTS, allSectionKeys, isAdmin, locateRoute, navTree, parseGroupKey, type GroupBots, type NavData, type NavNode } from '../nav';
import { useChanges } from '../hooks';
import { useSession } from '../api/session';
import { S } from '../strings';

export const TREE_KEY = 'botmox.tree';
export const TREE_WIDTH_DEFAULT = 280;
export const TREE_WIDTH_MIN = 220;
export const TREE_WIDTH_MAX = 460;
const RAIL_WIDTH = 48;
const STEP = 16;

interface TreeState {
  width: number;
  collapsed: boolean;
  expanded: string[];
  visible: BotStatus[];
  showFilters: boolean;
}

function clampWidth(w: number): number {
  return Math.min(TREE_WIDTH_MAX, Math.max(TREE_WIDTH_MIN, Math.round(w)));
}

function loadState(): TreeState {
  const fallback: TreeState = {
    width: TREE_WIDTH_DEFAULT,
    collapsed: false,
    expanded: [...DEFAULT_EXPANDED],
    visible: [...BOT_STATUSES],
    showFilters: false,
  };
  try {
    const raw = window.localStorage.getItem(TREE_KEY);
    if (!raw) return fallback;
    const v = JSON.parse(raw) as Partial<TreeState>;
    return {
      width: typeof v.width === 'number' ? clampWidth(v.width) : fallback.width,
      collapsed: v.collapsed === true,
      // Project and status-group keys come and go with the data; keep any project key.
      expanded: Array.isArray(v.expanded) ? v.expanded.filter(knownKey) : fallback.expanded,
      visible: Array.isArray(v.visible) ? BOT_STATUSES.filter((s) => v.visible!.includes(s)) : fallback.visible,
      showFilters: v.showFilters === true,
    };
  } catch {
    return fallback;
  }
}

const knownKey = (k: unknown): k is string =>
  typeof k === 'string' && (allSectionKeys().includes(k) || k.startsWith('/project/'));

function saveState(s: TreeState) {
  try {
    window.localStorage.setItem(TREE_KEY, JSON.stringify(s));
  } catch {
    // ignore
  }
}

function toTreeData(nodes: NavNode[]): TreeDataNode[] {
  return nodes.map((n) => ({
    key: n.key,
    title: n.title,
    icon: n.icon,
    disabled: n.disabled,
    selectable: !n.disabled,
    isLeaf: !n.children && !n.lazy,
    className: n.disabled ? 'bm-tree-empty' : undefined,
    children: n.children ? toTreeData(n.children) : undefined,
  }));
}

function findNode(key: string, nodes: NavNode[]): NavNode | undefined {
  for (const n of nodes) {
    if (n.key === key) return n;
    const c = n.children && findNode(key, n.children);
    if (c) return c;
  }
  return undefined;
}

/**
 * The bots of every expanded status group, one page each, loaded when the group is expanded
 * and reloaded when the change feed reports a bot change.
 */
function useGroupBots(expanded: string[]): Record<string, GroupBots> {
  const [groups, setGroups] = useState<Record<string, GroupBots>>({});
  const [version, setVersion] = useState(0);
  useChanges(['bots'], () => setVersion((v) => v + 1));
  const wanted = expanded.filter((k) => parseGroupKey(k)).join('\n');
  const loadedFor = useRef(new Map<string, number>());
  const mounted = useRef(true);
  useEffect(
    () => () => {
      mounted.current = false;
    },
    [],
  );
  useEffect(() => {
    const keys = wanted ? wanted.split('\n') : [];
    for (const key of keys) {
      if (loadedFor.current.get(key) === version) continue;
      loadedFor.current.set(key, version);
      const { projectId, status } = parseGroupKey(key)!;
      // One page of bots per status group; the rest are a link to the project page.
      botsApi
        .page({ page: 1, limit: MAX_LIMIT, sort: 'name', order: 'asc', filters: { project_id: projectId, status } })
        .then(
          (page) => mounted.current && setGroups((g) => ({ ...g, [key]: { bots: page.items, total: page.total } })),
          () => loadedFor.current.delete(key),
        );
    }
    // Collapsed groups load afresh when opened again.
    for (const key of [...loadedFor.current.keys()]) if (!keys.includes(key)) loadedFor.current.delete(key);
  }, [wanted, version]);
  return groups;
}

/** A ref for an element and its height in px, followed as it resizes. */
function useHeight(): [(el: HTMLDivElement | null) => void, number | undefined] {
  const [height, setHeight] = useState<number>();
  const observer = useRef<ResizeObserver | null>(null);
  const ref = useCallback((el: HTMLDivElement | null) => {
    observer.current?.disconnect();
    observer.current = null;
    if (!el || typeof ResizeObserver === 'undefined') return;
    observer.current = new ResizeObserver(() => {
      const style = getComputedStyle(el);
      const inner = el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
      setHeight(inner > 0 ? Math.floor(inner) : undefined);
    });
    observer.current.observe(el);
  }, []);
  return [ref, height];
}

export default function ResourceTree({ data, inDrawer = false }: { data: NavData | undefined; inDrawer?: boolean }) {
  const [state, setState] = useState<TreeState>(loadState);
  const location = useLocation();
  const navigate = useNavigate();
  const admin = isAdmin(useSession()?.user.roles);
  const groups = useGroupBots(state.expanded);
  const withGroups = useMemo(() => data && { ...data, groups }, [data, groups]);
  const nav = useMemo(() => navTree(withGroups, state.visible, admin), [withGroups, state.visible, admin]);
  const [scroller, height] = useHeight();
  const treeData = useMemo(() => toTreeData(nav), [nav]);
  const { key: selectedKey, ancestors } = locateRoute(location.pathname, nav);
  const toggleStatus = (s: BotStatus) =>
    setState((st) => ({ ...st, visible: st.visible.includes(s) ? st.visible.filter((x) => x !== s) : [...st.visible, s] }));

  useEffect(() => saveState(state), [state]);

  // Expand the current route's ancestors (the Projects branch never auto-expands).
  const ancestorsKey = ancestors.join('|');
  useEffect(() => {
    const wanted = ancestorsKey ? ancestorsKey.split('|').filter((k) => k !== SECTION_PROJECTS) : [];
    if (wanted.length === 0) return;
    setState((s) => {
      const missing = wanted.filter((k) => !s.expanded.includes(k));
      return missing.length ? { ...s, expanded: [...s.expanded, ...missing] } : s;
    });
  }, [ancestorsKey]);

  const setExpanded = useCallback((expanded: string[]) => setState((s) => ({ ...s, expanded })), []);
  const setCollapsed = (collapsed: boolean) => setState((s) => ({ ...s, collapsed }));

  const toggleSection = (key: string) =>
    setState((s) => ({
      ...s,
      expanded: s.expanded.includes(key) ? s.expanded.filter((k) => k !== key) : [...s.expanded, key],
    }));

  const openNode = (key: string) => {
    const n = findNode(key, nav);
    if (!n || n.disabled) return;
    if (n.path) navigate(n.path);
    else toggleSection(n.key);
  };

  // ---- divider (resize) ----
  const dragging = useRef<{ startX: number; startW: number } | null>(null);
  const onPointerDown = (e: PointerEvent<HTMLDivElement>) => {
    if (e.button !== 0) return;
    dragging.current = { startX: e.clientX, startW: state.width };
    e.currentTarget.setPointerCapture(e.pointerId);
    e.preventDefault();
  };
  const onPointerMove = (e: PointerEvent<HTMLDivElement>) => {
    const d = dragging.current;
    if (!d) return;
    const width = clampWidth(d.startW + e.clientX - d.startX);
    setState((s) => (s.width === width ? s : { ...s, width }));
  };
  const onPointerUp = (e: PointerEvent<HTMLDivElement>) => {
    dragging.current = null;
    if (e.currentTarget.hasPointerCapture(e.pointerId)) e.currentTarget.releasePointerCapture(e.pointerId);
  };
  const onDividerKey = (e: KeyboardEvent<HTMLDivElement>) => {
    const set = (w: number) => {
      e.preventDefault();
      setState((s) => ({ ...s, width: clampWidth(w) }));
    };
    if (e.key === 'ArrowLeft') set(state.width - STEP);
    else if (e.key === 'ArrowRight') set(state.width + STEP);
    else if (e.key === 'Home') set(TREE_WIDTH_MIN);
    else if (e.key === 'End') set(TREE_WIDTH_MAX);
  };

  if (state.collapsed && !inDrawer) {
    return (
      <nav className="bm-tree bm-tree-rail" style={{ width: RAIL_WIDTH }} aria-label={S.tree.panel}>
        <Tooltip title={S.tree.showPanel} placement="right">
          <Button
            type="text"
            className="bm-rail-btn"
            aria-label={S.tree.showPanel}
            icon={<MenuUnfoldOutlined />}
            onClick={() => setCollapsed(false)}
          />
        </Tooltip>
        <div className="bm-rail-sep" />
        {nav.map((n) => (
          <Tooltip key={n.key} title={n.title} placement="right">
            <Button
              type="text"
              className={'bm-rail-btn' + (n.key === selectedKey || ancestors.includes(n.key) ? ' is-active' : '')}
              aria-label={n.title}
              icon={n.icon}
              onClick={() => {
                if (n.path) {
                  navigate(n.path);
                } else {
                  setState((s) => ({
                    ...s,
                    collapsed: false,
                    expanded: s.expanded.includes(n.key) ? s.expanded : [...s.expanded, n.key],
                  }));
                }
              }}
            />
          </Tooltip>
        ))}
      </nav>
    );
  }

  return (
    <nav
      className={'bm-tree' + (inDrawer ? ' bm-tree-in-drawer' : '')}
      style={inDrawer ? undefined : { width: state.width }}
      aria-label={S.tree.panel}
    >
      <div className="bm-tree-toolbar">
        {!inDrawer && (
          <Tooltip title={S.tree.hidePanel} placement="right">
            <Button
              type="text"
              size="small"
              aria-label={S.tree.hidePanel}
              icon={<MenuFoldOutlined />}
              onClick={() => setCollapsed(true)}
            />
          </Tooltip>
        )}
        {!data && <Spin size="small" />}
        <span className="bm-tree-toolbar-spacer" />
        <Tooltip title={S.tree.botFilters}>
          <Button
            type={state.showFilters ? 'link' : 'text'}
            size="small"
            aria-label={S.tree.botFilters}
            aria-pressed={state.showFilters}
            icon={<FilterOutlined />}
            onClick={() => setState((s) => ({ ...s, showFilters: !s.showFilters }))}
          />
        </Tooltip>
        <Tooltip title={S.tree.expandAll}>
          <Button
            type="text"
            size="small"
            aria-label={S.tree.expandAll}
            icon={<PlusSquareOutlined />}
            onClick={() => setExpanded(allSectionKeys(nav))}
          />
        </Tooltip>
        <Tooltip title={S.tree.collapseAll}>
          <Button
            type="text"
            size="small"
            aria-label={S.tree.collapseAll}
            icon={<MinusSquareOutlined />}
            onClick={() => setExpanded([])}
          />
        </Tooltip>
      </div>
      {state.showFilters && (
        <div className="bm-tree-filters" data-testid="tree-filters">
          {BOT_STATUSES.map((s) => (
            <Tag.CheckableTag
              key={s}
              checked={state.visible.includes(s)}
              onChange={() => toggleStatus(s)}
              style={{ ['--bm-dot' as string]: STATUS_COLORS[s] }}
            >
              {S.botStatus[s]}
            </Tag.CheckableTag>
          ))}
        </div>
      )}
      <div className="bm-tree-scroll" ref={scroller}>
        <Tree
          treeData={treeData}
          // Virtualised: only the rows in view are rendered, however many bots a group shows.
          height={height}
          virtual
          showLine
          showIcon
          blockNode
          selectedKeys={selectedKey ? [selectedKey] : []}
          expandedKeys={state.expanded}
          onExpand={(keys) => setExpanded(keys.map(String))}
          onSelect={(_keys, info) => openNode(String(info.node.key))}
        />
      </div>
      {!inDrawer && (
        <div
          className="bm-tree-divider"
          role="separator"
          aria-orientation="vertical"
          aria-label={S.tree.resize}
          aria-valuemin={TREE_WIDTH_MIN}
          aria-valuemax={TREE_WIDTH_MAX}
          aria-valuenow={state.width}
          tabIndex={0}
          onPointerDown={onPointerDown}
          onPointerMove={onPointerMove}
          onPointerUp={onPointerUp}
          onPointerCancel={onPointerUp}
          onKeyDown={onDividerKey}
          onDoubleClick={() => setState((s) => ({ ...s, width: TREE_WIDTH_DEFAULT }))}
        />
      )}
    </nav>
  );
}
