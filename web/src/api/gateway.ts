// The service-UI gateway (Proxmox, TinyFM, Syncthing) lives on an origin of its own. The app
// asks for a one-use hand-off link for one service; the gateway trades it for a cookie of its
// own origin, so no session credential of ours ever appears in a URL or reaches that origin.

import { api } from './client';

export type GatewayService = 'proxmox' | 'tinyfm' | 'syncthing';

interface Ticket {
  url: string;
  service: GatewayService;
  expires_at_ms: number;
}

/** A fresh hand-off URL on the gateway origin: open it at once, it works once. */
export async function gatewayUrl(service: GatewayService): Promise<string> {
  const ticket = await api.post<Ticket>('/gateway/tickets', { service });
  return ticket.url;
}

/**
 * Opens a service UI in a new tab. The tab is opened before the ticket is fetched (so popup
 * blockers allow it) and loses its opener, so the service's page cannot steer this one.
 */
export async function openGateway(service: GatewayService): Promise<void> {
  const tab = window.open('about:blank', '_blank');
  if (tab) tab.opener = null;
  try {
    const url = await gatewayUrl(service);
    if (tab) tab.location.href = url;
  } catch (e) {
    tab?.close();
    throw e;
  }
}
