// The proxy string of the Add/Edit dialog (web-ui.md §2.5): ip:port:login:password,
// ip:port@login:password or login:password@ip:port, optionally behind
// socks5:// / http:// / https://; SOCKS5 unless the scheme says HTTP.

export interface ParsedProxy {
  ip: string;
  port: number;
  login: string;
  password: string;
  type: 'socks5' | 'http';
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
const HOST = /^[a-z0-9.-]+$/i;

function endpoint(ip: string, port: string): { ip: string; port: number } | null {
  const n = Number(port);
  if (!(IPV4.test(ip) || HOST.test(ip)) || !/^\d+$/.test(port) || n < 1 || n > 65535) return null;
  return { ip, port: n };
}

export function parseProxy(input: string): ParsedProxy | null {
  let s = input.trim();
  let type: ParsedProxy['type'] = 'socks5';
  const scheme = /^(socks5|https?):\/\//i.exec(s);
  if (scheme) {
    type = scheme[1].toLowerCase() === 'socks5' ? 'socks5' : 'http';
    s = s.slice(scheme[0].length);
  }
  let host: string[];
  let auth: string[];
  if (s.includes('@')) {
    const [a, b] = s.split('@', 2);
    const left = a.split(':');
    const right = b.split(':');
    // Whichever side ends in a port is the address.
    const leftIsAddr = left.length === 2 && endpoint(left[0], left[1]) !== null;
    host = leftIsAddr ? left : right;
    auth = leftIsAddr ? right : left;
  } else {
    const parts = s.split(':');
    host = parts.slice(0, 2);
    auth = parts.slice(2);
  }
  if (host.length !== 2 || auth.length > 2 || (auth.length === 1 && auth[0] !== '')) return null;
  const ep = endpoint(host[0], host[1]);
  if (!ep) return null;
  return { ...ep, login: auth[0] ?? '', password: auth[1] ?? '', type };
}

export function proxyString(p: { ip?: string; port?: number; login?: string; password?: string }): string {
  const base = `${p.ip ?? ''}:${p.port ?? ''}`;
  return p.login || p.password ? `${base}:${p.login ?? ''}:${p.password ?? ''}` : base;
}
