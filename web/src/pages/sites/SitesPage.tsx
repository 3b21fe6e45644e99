// Service sites (`/vms/sites/:site`, web-ui.md §2.8): a service's web UI through the infra
// gateway, framed full size; the frame's requests carry the session cookie (the gateway checks
// it and requires the infra role), so no token is ever in its URL. The URL it proxies to is `vmgenerator.services` in settings.

import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Alert, Button, Spin } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { api, errorMessage } from '../../api/client';
import { useSession } from '../../api/session';
import { S } from '../../strings';
import './sites.css';

const T = S.sites;

interface Site {
  title: string;
  /** The gateway prefix of this service (src/gateway/services.rs). */
  prefix: string;
  /** Settings keys under `vmgenerator` that may hold its URL, as the gateway reads them. */
  keys: string[][];
}

const SITES: Record<string, Site> = {
  proxmox: { title: 'Proxmox', prefix: '/proxmox-ui/', keys: [['services', 'proxmoxUrl'], ['proxmox', 'url']] },
  tinyfm: { title: 'TinyFileManager', prefix: '/tinyfm-ui/', keys: [['services', 'tinyFmUrl'], ['services', 'tinyfmUrl']] },
  syncthing: { title: 'SyncThing', prefix: '/syncthing-ui/', keys: [['services', 'syncthingUrl']] },
};

function configured(settings: unknown, site: Site): boolean {
  return site.keys.some((path) => {
    let v: unknown = settings;
    for (const k of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
    return typeof v === 'string' && v.trim() !== '';
  });
}

export default function SitesPage() {
  const { site: key = '' } = useParams();
  const site = SITES[key];
  const session = useSession();
  const infra = session?.user.roles.includes('infra') ?? false;
  const [state, setState] = useState<{ loading: boolean; ok?: boolean; error?: string }>({ loading: true });
  const [frameKey, setFrameKey] = useState(0);

  useEffect(() => {
    if (!site || !infra) return;
    let alive = true;
    setState({ loading: true });
    api.get<unknown>('/settings/vmgenerator').then(
      (s) => alive && setState({ loading: false, ok: configured(s, site) }),
      (e: unknown) => alive && setState({ loading: false, error: errorMessage(e) }),
    );
    return () => {
      alive = false;
    };
  }, [site, infra]);

  let body;
  if (!site) body = <Alert type="warning" showIcon message={T.unknown(key)} />;
  else if (!infra) body = <Alert type="warning" showIcon message={T.noAccess} data-testid="site-no-access" />;
  else if (state.loading) body = <Spin tip={T.loading} data-testid="site-loading"><div className="bm-site-spin" /></Spin>;
  else if (state.error) body = <Alert type="error" showIcon message={state.error} />;
  else if (!state.ok)
    body = <Alert type="info" showIcon message={T.notConfigured} data-testid="site-not-configured" action={<Link to="/vms">{T.openVms}</Link>} />;
  else
    body = (
      <iframe
        key={frameKey}
        className="bm-site-frame"
        title={site.title}
        src={site.prefix}
        data-testid="site-frame"
      />
    );

  return (
    <div className="bm-page bm-site">
      <div className="bm-site-bar">
        <h1 className="bm-site-title">{site?.title ?? key}</h1>
        <span className="bm-grow" />
        <Button size="small" icon={<ReloadOutlined />} disabled={!state.ok} onClick={() => setFrameKey((k) => k + 1)}>
          {T.reload}
        </Button>
      </div>
      <div className="bm-site-body">{body}</div>
    </div>
  );
}
