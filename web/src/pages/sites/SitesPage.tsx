// Service sites (`/vms/sites/:site`, web-ui.md §2.8): a service's web UI through the infra
// gateway, framed full size. The gateway is another origin: each load of the frame uses a
// fresh one-use hand-off link from the API (never our session token), and the gateway checks
// the infra role. The URL it proxies to is `vmgenerator.services` in settings.

import { useEffect, useState } from 'react';
import { Link, useParams } from 'react-router';
import { Alert, Button, Spin } from 'antd';
import { ReloadOutlined } from '@ant-design/icons';
import { api, errorMessage } from '../../api/client';
import { gatewayUrl, type GatewayService } from '../../api/gateway';
import { useSession } from '../../api/session';
import { S } from '../../strings';
import './sites.css';

const T = S.sites;

interface Site {
  title: string;
  /** The gateway's name for this service (src/gateway/services.rs). */
  service: GatewayService;
  /** Settings keys under `vmgenerator` that may hold its URL, as the gateway reads them. */
  keys: string[][];
}

const SITES: Record<string, Site> = {
  proxmox: { title: 'Proxmox', service: 'proxmox', keys: [['services', 'proxmoxUrl'], ['proxmox', 'url']] },
  tinyfm: { title: 'TinyFileManager', service: 'tinyfm', keys: [['services', 'tinyFmUrl'], ['services', 'tinyfmUrl']] },
  syncthing: { title: 'SyncThing', service: 'syncthing', keys: [['services', 'syncthingUrl']] },
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
  const [frame, setFrame] = useState<{ url?: string; error?: string }>({});

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

  // A hand-off link works once, so every (re)load of the frame asks for a new one.
  useEffect(() => {
    if (!site || !state.ok) return;
    let alive = true;
    setFrame({});
    gatewayUrl(site.service).then(
      (url) => alive && setFrame({ url }),
      (e: unknown) => alive && setFrame({ error: errorMessage(e) }),
    );
    return () => {
      alive = false;
    };
  }, [site, state.ok, frameKey]);

  let body;
  if (!site) body = <Alert type="warning" showIcon message={T.unknown(key)} />;
  else if (!infra) body = <Alert type="warning" showIcon message={T.noAccess} data-testid="site-no-access" />;
  else if (state.loading) body = <Spin tip={T.loading} data-testid="site-loading"><div className="bm-site-spin" /></Spin>;
  else if (state.error) body = <Alert type="error" showIcon message={state.error} />;
  else if (!state.ok)
    body = <Alert type="info" showIcon message={T.notConfigured} data-testid="site-not-configured" action={<Link to="/vms">{T.openVms}</Link>} />;
  else if (frame.error) body = <Alert type="error" showIcon message={frame.error} />;
  else if (!frame.url) body = <Spin tip={T.loading} data-testid="site-loading"><div className="bm-site-spin" /></Spin>;
  else
    body = (
      <iframe
        key={frameKey}
        className="bm-site-frame"
        title={site.title}
        src={frame.url}
        referrerPolicy="no-referrer"
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
