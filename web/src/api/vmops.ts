// The VM command queue (api-ops.md §3): dispatch, history, and the server's event stream.
//
// The stream (`GET /vm-ops/events`) is read with fetch (the session cookie goes along) and
// parsed here, so that it can resume with `Last-Event-ID`. One connection serves the whole page: it opens
// with the first subscriber, closes with the last, reconnects by itself (1 → 15 s back-off)
// and resumes with `Last-Event-ID`, so no transition is missed across a reconnect.

import { useEffect, useRef, useState } from 'react';
import { API_BASE, ApiError, api } from './client';

/** A Proxmox target an agent reports (`proxmox.list-targets`). */
export interface Target {
  id: string;
  label: string;
  url: string;
  username: string;
  node: string;
  isActive: boolean;
  sshConfigured: boolean;
}

/** A VM row of `proxmox.list`. */
export interface Vm {
  vmid: number;
  name?: string;
  status: string;
  uptime?: number;
  template?: number;
  cpus?: number;
  maxmem?: number;
}

export type CommandStatus = 'queued' | 'dispatched' | 'running' | 'succeeded' | 'failed' | 'expired' | 'cancelled';

export interface Command {
  id: string;
  agent_id: string;
  command_type: string;
  payload: Record<string, unknown>;
  status: CommandStatus;
  result: unknown;
  error_message: string | null;
  progress: number | null;
  progress_message: string | null;
  retry_count: number;
  created_by: string | null;
  queued_at: string;
  started_at: string | null;
  completed_at: string | null;
  expires_at: string | null;
  updated_at: string;
  /** Only reads (list, status, …); missing on events stored before the field existed. */
  read_only?: boolean;
}

export interface CommandEvent {
  event_id: number;
  event_type: string;
  server_time: string;
  command: Command;
}

export type StreamState = 'connecting' | 'open' | 'down';

const TERMINAL: readonly CommandStatus[] = ['succeeded', 'failed', 'expired', 'cancelled'];
export const isTerminal = (s: CommandStatus) => TERMINAL.includes(s);

export const vmOpsApi = {
  dispatch: (agentId: string, action: string, params: Record<string, unknown>) =>
    api.post<Command>(`/vm-ops/proxmox/${encodeURIComponent(action)}`, { agent_id: agentId, params }),
  /** The latest 100 commands, newest first, without result and error. */
  list: (agentId?: string) =>
    api.get<Command[]>(`/vm-ops/commands${agentId ? `?agent_id=${encodeURIComponent(agentId)}` : ''}`),
  get: (id: string) => api.get<Command>(`/vm-ops/commands/${encodeURIComponent(id)}`),
  cancel: (id: string) => api.post<Command>(`/vm-ops/commands/${encodeURIComponent(id)}/cancel`),
};

const RETRY_MIN_MS = 1_000;
const RETRY_MAX_MS = 15_000;
/** Commands remembered by id, so a waiter that subscribes late still sees a finished one. */
const KNOWN_MAX = 500;

export interface SseFrame {
  /** 0 when the frame has no id. */
  id: number;
  event: string;
  /** '' for comments (": connected", ": heartbeat"). */
  data: string;
}

/** Reads a `text/event-stream` body to its end, one callback per frame. */
export async function readSse(body: NonNullable<Response['body']>, onFrame: (f: SseFrame) => void): Promise<void> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buf += value.replace(/\r\n?/g, '\n');
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const frame: SseFrame = { id: 0, event: 'message', data: '' };
      for (const line of buf.slice(0, end).split('\n')) {
        if (line.startsWith('data:')) frame.data += line.slice(5).trimStart();
        else if (line.startsWith('id:')) frame.id = Number(line.slice(3).trim()) || 0;
        else if (line.startsWith('event:')) frame.event = line.slice(6).trim();
      }
      buf = buf.slice(end + 2);
      onFrame(frame);
    }
  }
}

type EventListener = (e: CommandEvent) => void;
type StateListener = (s: StreamState) => void;

class CommandStream {
  private events = new Set<EventListener>();
  private states = new Set<StateListener>();
  private known = new Map<string, Command>();
  private lastId = 0;
  private abort: AbortController | null = null;
  state: StreamState = 'down';

  subscribe(onEvent?: EventListener, onState?: StateListener): () => void {
    if (onEvent) this.events.add(onEvent);
    if (onState) this.states.add(onState);
    if (!this.abort) {
      const ctl = new AbortController();
      this.abort = ctl;
      void this.run(ctl.signal);
    }
    return () => {
      if (onEvent) this.events.delete(onEvent);
      if (onState) this.states.delete(onState);
      if (!this.events.size && !this.states.size && this.abort) {
        this.abort.abort();
        this.abort = null;
        this.setState('down');
      }
    };
  }

  /** The last state of a command seen on the stream. */
  seen(id: string): Command | undefined {
    return this.known.get(id);
  }

  private setState(s: StreamState) {
    if (this.state === s) return;
    this.state = s;
    for (const l of this.states) l(s);
  }

  private handle({ id, data }: SseFrame) {
    if (!data) return; // comments: ": connected", ": heartbeat"
    if (id > this.lastId) this.lastId = id;
    let e: CommandEvent;
    try {
      e = JSON.parse(data) as CommandEvent;
    } catch {
      return;
    }
    this.known.delete(e.command.id);
    this.known.set(e.command.id, e.command);
    if (this.known.size > KNOWN_MAX) this.known.delete(this.known.keys().next().value as string);
    for (const l of this.events) l(e);
  }

  private async run(signal: AbortSignal) {
    let retry = RETRY_MIN_MS;
    while (!signal.aborted) {
      this.setState('connecting');
      try {
        const headers: Record<string, string> = { Accept: 'text/event-stream' };
        if (this.lastId) headers['Last-Event-ID'] = String(this.lastId);
        const res = await fetch(`${API_BASE}/vm-ops/events`, { headers, signal, credentials: 'same-origin', cache: 'no-store' });
        if (res.status === 401) {
          // A plain request lets the client end the session and go to /login.
          await api.get('/auth/whoami').catch(() => undefined);
          break;
        }
        if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
        this.setState('open');
        retry = RETRY_MIN_MS;
        await readSse(res.body, (f) => this.handle(f));
      } catch {
        // Network loss or abort: the loop below decides.
      }
      if (signal.aborted) return;
      this.setState('down');
      await new Promise<void>((resolve) => {
        const t = window.setTimeout(resolve, retry);
        signal.addEventListener('abort', () => (window.clearTimeout(t), resolve()), { once: true });
      });
      retry = Math.min(retry * 2, RETRY_MAX_MS);
    }
    this.setState('down');
  }
}

export const commandStream = new CommandStream();

/** Follows the stream while mounted; `onEvent` sees every command transition. */
export function useCommandStream(onEvent: EventListener): StreamState {
  const [state, setState] = useState<StreamState>(commandStream.state);
  const ref = useRef(onEvent);
  ref.current = onEvent;
  useEffect(() => commandStream.subscribe((e) => ref.current(e), setState), []);
  return state;
}

/** Backup poll while the stream is down (api-ops.md §3.6). */
const FALLBACK_POLL_MS = 1_500;
const AWAIT_MS = 120_000;

export class CommandFailed extends Error {
  constructor(readonly command: Command) {
    super(command.error_message || command.status);
    this.name = 'CommandFailed';
  }
}

/** Resolves with the command once terminal: from the stream, or by polling only while it is down. */
export function awaitCommand(id: string, timeoutMs = AWAIT_MS): Promise<Command> {
  return new Promise((resolve, reject) => {
    let poll = 0;
    const done = (c: Command) => {
      cleanup();
      if (c.status === 'succeeded') resolve(c);
      else reject(new CommandFailed(c));
    };
    const check = () =>
      vmOpsApi.get(id).then((c) => isTerminal(c.status) && done(c), () => undefined);
    const onState = (s: StreamState) => {
      window.clearInterval(poll);
      if (s !== 'open') poll = window.setInterval(check, FALLBACK_POLL_MS);
      // A stream opened after the dispatch starts at the newest event and may have missed
      // this command's: one look at the record covers that gap.
      else void check();
    };
    const unsubscribe = commandStream.subscribe((e) => {
      if (e.command.id === id && isTerminal(e.command.status)) done(e.command);
    }, onState);
    const timer = window.setTimeout(() => {
      cleanup();
      reject(new ApiError('COMMAND_TIMEOUT', `No result within ${Math.round(timeoutMs / 1000)} s`, 0));
    }, timeoutMs);
    function cleanup() {
      window.clearInterval(poll);
      window.clearTimeout(timer);
      unsubscribe();
    }
    onState(commandStream.state);
    const seen = commandStream.seen(id);
    if (seen && isTerminal(seen.status)) done(seen);
  });
}

/** Dispatches `proxmox.<action>` and waits for its result. */
export async function runCommand<T = unknown>(agentId: string, action: string, params: Record<string, unknown>): Promise<T> {
  const queued = await vmOpsApi.dispatch(agentId, action, params);
  return (await awaitCommand(queued.id)).result as T;
}

/** A Proxmox task action (clone, start, …) followed by `wait-task` on its UPID. */
export async function runTask(agentId: string, action: string, params: Record<string, unknown>): Promise<void> {
  const r = await runCommand<{ upid?: string }>(agentId, action, params);
  if (r?.upid) await runCommand(agentId, 'wait-task', { ...scope(params), upid: r.upid, intervalMs: 500 });
}

/** The target/node keys of a payload, which every follow-up command needs too. */
export function scope(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (params.target !== undefined) out.target = params.target;
  if (params.node !== undefined) out.node = params.node;
  return out;
}
