//! The agent link at scale: N simulated agents (10,000 by default) each hold one WebSocket to
//! the release server on loopback. Measured: the server's RSS with all of them connected and
//! idle, heartbeats handled (paced at a steady rate, then as fast as the agents can send them,
//! one outstanding each) with their reply latency, and dispatch-to-receipt latency: from
//! sending `POST /api/v1/vm-ops/proxmox/start` for a random connected agent to the pushed
//! `agent.command.assigned` frame arriving at that agent, commands sent at a steady rate while
//! the whole fleet keeps heartbeating at the real agent's interval.
//!
//! `cargo bench --bench agents` (release profile); `cargo bench --bench agents -- --agents 1000`
//! for a quick run (also `--commands`, `--command-rate`, `--beat-rate`, `--beat-secs`,
//! `--flood`; `--idle` stops after the idle readings, 5 s and a minute after connecting). The light clients (one task and a 4 KiB read buffer per socket) run in this
//! process and share the machine with the server.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use botmox_contract::agent::{AgentFrame, AssignedCommand, ServerFrame, PUSH};
use futures_util::{SinkExt, StreamExt};
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use tokio::net::TcpStream;
use tokio::sync::{mpsc, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::Message;

mod support;
use support::{concurrently, cpu_time, create_user, login, quantile_ms, raise_nofile, spawn, status_kb, stop, wait_ok};

static PORT: std::sync::LazyLock<u16> = std::sync::LazyLock::new(support::free_port);
const EMAIL: &str = "bench@example.com";
const PASSWORD: &str = "bench password";
/// HTTP clients pairing the agents.
const PAIRING_CLIENTS: usize = 64;
/// WebSocket handshakes in flight at once (the listen backlog is 1024).
const CONNECTING: usize = 256;
/// The real agent's default heartbeat interval (`agent/src/link.rs`).
const BEAT_INTERVAL: Duration = Duration::from_secs(30);
/// How long a phase may wait for its last replies or receipts.
const DRAIN: Duration = Duration::from_secs(60);

struct Options {
    agents: usize,
    commands: usize,
    command_rate: f64,
    beat_rate: f64,
    beat_window: Duration,
    flood: u32,
    /// Stop after the idle reading (`--idle`).
    idle_only: bool,
}

fn options() -> Options {
    let mut o = Options {
        agents: 10_000,
        commands: 2_000,
        command_rate: 100.0,
        beat_rate: 1_000.0,
        beat_window: Duration::from_secs(15),
        flood: 3,
        idle_only: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut number = || {
            args.next()
                .and_then(|v| v.parse::<f64>().ok())
                .filter(|v| *v > 0.0)
                .unwrap_or_else(|| panic!("{arg} takes a positive number"))
        };
        match arg.as_str() {
            "--agents" => o.agents = number() as usize,
            "--commands" => o.commands = number() as usize,
            "--command-rate" => o.command_rate = number(),
            "--beat-rate" => o.beat_rate = number(),
            "--beat-secs" => o.beat_window = Duration::from_secs_f64(number()),
            "--flood" => o.flood = number() as u32,
            "--idle" => o.idle_only = true,
            // cargo passes `--bench`; nothing else is ours.
            _ => {}
        }
    }
    o
}

fn url(path: &str) -> String {
    format!("http://127.0.0.1:{}{path}", *PORT)
}

type Socket = tokio_tungstenite::WebSocketStream<TcpStream>;

/// What the bench asks of one simulated agent.
enum Order {
    /// One heartbeat now.
    Beat,
    /// This many heartbeats, each sent when the previous one's reply arrives.
    Flood(u32),
}

/// What the agents report back, shared by all of them.
#[derive(Default)]
struct Shared {
    beat_latencies: Mutex<Vec<Duration>>,
    /// Command id → when its `agent.command.assigned` arrived.
    receipts: Mutex<HashMap<String, Instant>>,
    /// `error` frames, sockets closed by the server, unreadable frames.
    errors: AtomicU64,
}

fn text(frame: &AgentFrame) -> Message {
    Message::Text(serde_json::to_string(frame).unwrap().into())
}

/// Opens one agent's socket and waits for the server's `connected` frame.
async fn connect(agent_id: &str, token: &str) -> Socket {
    let stream = TcpStream::connect(("127.0.0.1", *PORT)).await.expect("tcp connect");
    stream.set_nodelay(true).unwrap();
    // Light clients: frames are a few hundred bytes, and a write goes out at once.
    let config = WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let request = format!(
        "ws://127.0.0.1:{}/api/v1/agents/ws?agent_id={agent_id}&token={token}",
        *PORT
    );
    let (mut socket, _) = tokio_tungstenite::client_async_with_config(request, stream, Some(config))
        .await
        .expect("websocket handshake");
    match socket.next().await {
        Some(Ok(Message::Text(t))) if t.contains("\"connected\"") => {}
        other => panic!("expected the connected frame, got {other:?}"),
    }
    // The hello that turns on pushed commands, as the real agent sends it; its reply has no
    // numeric request id, so `agent` does not count it as a heartbeat.
    let hello = AgentFrame::Heartbeat {
        request_id: Some("hello".into()),
        metadata: None,
        capabilities: vec![PUSH.into()],
    };
    socket.send(text(&hello)).await.expect("send the hello");
    socket
}

/// One simulated agent: heartbeats on order, and acknowledges then completes pushed commands
/// as the real agent would, so each command leaves the queue.
async fn agent(mut socket: Socket, mut orders: mpsc::Receiver<Order>, shared: Arc<Shared>) {
    let mut sent: VecDeque<(u64, Instant)> = VecDeque::new();
    let mut seq = 0u64;
    let mut flood = 0u32;
    loop {
        let mut out: Vec<AgentFrame> = Vec::new();
        let mut beat = false;
        tokio::select! {
            order = orders.recv() => match order {
                Some(Order::Beat) => beat = true,
                Some(Order::Flood(n)) => {
                    flood = n.saturating_sub(1);
                    beat = true;
                }
                None => return,
            },
            message = socket.next() => {
                let received = Instant::now();
                let text = match message {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(_)) => continue,
                    Some(Err(_)) | None => {
                        shared.errors.fetch_add(1, Ordering::Relaxed);
                        return;
                    }
                };
                match serde_json::from_str::<ServerFrame<AssignedCommand>>(&text) {
                    Ok(ServerFrame::Heartbeat { request_id, .. }) => {
                        let id = request_id.and_then(|r| r.parse::<u64>().ok());
                        if let Some(at) = sent.iter().position(|(s, _)| Some(*s) == id) {
                            let (_, t) = sent.remove(at).unwrap();
                            shared.beat_latencies.lock().unwrap().push(received - t);
                        }
                        if flood > 0 {
                            flood -= 1;
                            beat = true;
                        }
                    }
                    Ok(ServerFrame::Assigned { command: Some(command), .. }) => {
                        shared.receipts.lock().unwrap().insert(command.id.clone(), received);
                        out.push(AgentFrame::Ack { request_id: None, command_id: command.id.clone() });
                        out.push(AgentFrame::Result {
                            request_id: None,
                            command_id: command.id,
                            status: "succeeded".into(),
                            result: Some(json!({ "upid": "UPID:bench" })),
                            error_message: None,
                        });
                    }
                    Ok(ServerFrame::Error { .. }) | Err(_) => {
                        shared.errors.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                }
            }
        }
        if beat {
            seq += 1;
            sent.push_back((seq, Instant::now()));
            out.push(AgentFrame::Heartbeat {
                request_id: Some(seq.to_string()),
                metadata: None,
                capabilities: Vec::new(),
            });
        }
        for frame in &out {
            if socket.send(text(frame)).await.is_err() {
                shared.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        }
    }
}

/// Orders heartbeats at `rate` per second for `window`, cycling through the agents in a random
/// order; returns how many the agents took (an agent with a full order queue skips one).
async fn pace(orders: Arc<Vec<mpsc::Sender<Order>>>, rate: f64, window: Duration) -> usize {
    let mut turn: Vec<usize> = (0..orders.len()).collect();
    turn.shuffle(&mut rand::thread_rng());
    let mut tick = tokio::time::interval(Duration::from_millis(5));
    let started = Instant::now();
    let (mut ordered, mut taken) = (0, 0);
    while started.elapsed() < window {
        tick.tick().await;
        let due = (rate * started.elapsed().as_secs_f64()) as usize;
        while ordered < due {
            taken += usize::from(orders[turn[ordered % turn.len()]].try_send(Order::Beat).is_ok());
            ordered += 1;
        }
    }
    taken
}

/// Waits until `count()` reaches `want` (or [`DRAIN`] passes); returns when it stopped.
async fn drained(want: usize, count: impl Fn() -> usize) -> Instant {
    let deadline = Instant::now() + DRAIN;
    while count() < want && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    Instant::now()
}

fn latency_row(name: &str, latencies: &mut [Duration]) -> String {
    latencies.sort();
    format!(
        "| {name} | {} | {:.2} | {:.2} | {:.2} |",
        latencies.len(),
        quantile_ms(latencies, 0.5),
        quantile_ms(latencies, 0.99),
        quantile_ms(latencies, 1.0)
    )
}

fn mb(kb: u64) -> f64 {
    kb as f64 / 1024.0
}

#[tokio::main]
async fn main() {
    let o = options();
    let n = o.agents;
    // This process holds every client socket; the server (spawned below, inheriting the
    // limit) holds every accepted one.
    let limit = raise_nofile(n as u64 + 4096);
    assert!(
        limit >= n as u64 + 1024,
        "RLIMIT_NOFILE is {limit}; {n} agents need about {}",
        n + 1024
    );
    println!("{n} agents, RLIMIT_NOFILE {limit}");

    let tmp = tempfile::tempdir().unwrap();
    create_user(tmp.path(), EMAIL, PASSWORD);
    let server = spawn(*PORT, tmp.path());
    let pid = server.id();
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(PAIRING_CLIENTS)
        .build()
        .unwrap();
    wait_ok(&http, &url("/api/v1/health/live")).await;
    let bearer = Arc::new(login(&http, &url(""), EMAIL, PASSWORD).await);
    let rss_ready = status_kb(pid, "VmRSS");

    // Pairing: a pairing as the admin, then the agent redeems its code.
    let started = Instant::now();
    let (c, b) = (http.clone(), bearer.clone());
    let agents: Vec<(String, String)> = concurrently(n, PAIRING_CLIENTS, move |i| {
        let (c, b) = (c.clone(), b.clone());
        async move {
            let pairing: Value = c
                .post(url("/api/v1/agents/pairings"))
                .header("authorization", b.as_str())
                .json(&json!({ "name": format!("bench-{i:05}") }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let code = pairing["data"]["pairing_code"].as_str().expect("a pairing code");
            let registered: Value = c
                .post(url("/api/v1/agents/register"))
                .json(&json!({ "pairing_code": code, "machine_name": format!("PC-{i:05}") }))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let agent = &registered["data"];
            (
                agent["id"].as_str().expect("an agent id").to_owned(),
                agent["agent_token"].as_str().expect("an agent token").to_owned(),
            )
        }
    })
    .await;
    let paired = started.elapsed();
    let rss_paired = status_kb(pid, "VmRSS");
    println!("paired {n} agents in {:.1} s", paired.as_secs_f64());

    // Connecting: every agent opens its socket; the server pushes `connected`.
    let shared = Arc::new(Shared::default());
    let gate = Arc::new(Semaphore::new(CONNECTING));
    let started = Instant::now();
    let connecting: Vec<_> = agents
        .iter()
        .map(|(id, token)| {
            let (id, token, gate) = (id.clone(), token.clone(), gate.clone());
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await.unwrap();
                let t = Instant::now();
                let socket = connect(&id, &token).await;
                (socket, t.elapsed())
            })
        })
        .collect();
    let mut orders = Vec::with_capacity(n);
    let mut connect_latencies = Vec::with_capacity(n);
    for task in connecting {
        let (socket, latency) = task.await.unwrap();
        let (tx, rx) = mpsc::channel(4);
        tokio::spawn(agent(socket, rx, shared.clone()));
        orders.push(tx);
        connect_latencies.push(latency);
    }
    let connected = started.elapsed();
    let orders = Arc::new(orders);
    println!("connected {n} sockets in {:.1} s", connected.as_secs_f64());
    // Let the per-socket work of connecting (the pusher's first claim) settle.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let rss_idle = status_kb(pid, "VmRSS");
    let hwm_idle = status_kb(pid, "VmHWM");
    println!(
        "server idle with {n} connected: VmRSS {:.1} MB (anonymous {:.1}, file {:.1}), VmHWM {:.1} MB; \
         {:.1} KB per socket over the paired server ({:.1} MB)",
        mb(rss_idle),
        mb(status_kb(pid, "RssAnon")),
        mb(status_kb(pid, "RssFile")),
        mb(hwm_idle),
        (rss_idle.saturating_sub(rss_paired)) as f64 / n as f64,
        mb(rss_paired)
    );
    if o.idle_only {
        // The server hands freed heap pages back once a minute (the sweep).
        tokio::time::sleep(Duration::from_secs(65)).await;
        println!(
            "server idle a minute later: VmRSS {:.1} MB (anonymous {:.1}, file {:.1})",
            mb(status_kb(pid, "VmRSS")),
            mb(status_kb(pid, "RssAnon")),
            mb(status_kb(pid, "RssFile"))
        );
        stop(server);
        return;
    }

    // Heartbeats at a steady rate.
    let cpu = cpu_time(pid);
    let started = Instant::now();
    let ordered = pace(orders.clone(), o.beat_rate, o.beat_window).await;
    let count = || shared.beat_latencies.lock().unwrap().len();
    let done = drained(ordered, count).await;
    let paced_wall = done - started;
    let paced_cpu = cpu_time(pid) - cpu;
    let mut paced = std::mem::take(&mut *shared.beat_latencies.lock().unwrap());
    println!(
        "paced heartbeats: {} ordered, {} replied in {:.1} s",
        ordered,
        paced.len(),
        paced_wall.as_secs_f64()
    );

    // Heartbeats as fast as the agents get replies, one outstanding per agent.
    let cpu = cpu_time(pid);
    let started = Instant::now();
    for tx in orders.iter() {
        tx.send(Order::Flood(o.flood)).await.unwrap();
    }
    let done = drained(n * o.flood as usize, count).await;
    let flood_wall = done - started;
    let flood_cpu = cpu_time(pid) - cpu;
    let mut flooded = std::mem::take(&mut *shared.beat_latencies.lock().unwrap());
    let rss_beats = status_kb(pid, "VmRSS");

    // Dispatches at a steady rate to random agents, while the fleet heartbeats every 30 s.
    let dispatch_window = Duration::from_secs_f64(o.commands as f64 / o.command_rate);
    let background = tokio::spawn(pace(
        orders.clone(),
        n as f64 / BEAT_INTERVAL.as_secs_f64(),
        dispatch_window,
    ));
    let dispatcher = reqwest::Client::new();
    let ids: Arc<Vec<String>> = Arc::new(agents.iter().map(|(id, _)| id.clone()).collect());
    let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / o.command_rate));
    let cpu = cpu_time(pid);
    let mut sending = Vec::with_capacity(o.commands);
    for i in 0..o.commands {
        tick.tick().await;
        let target = rand::thread_rng().gen_range(0..n);
        let (c, b, ids) = (dispatcher.clone(), bearer.clone(), ids.clone());
        sending.push(tokio::spawn(async move {
            let sent = Instant::now();
            let res = c
                .post(url("/api/v1/vm-ops/proxmox/start"))
                .header("authorization", b.as_str())
                .json(&json!({ "agent_id": ids[target], "params": { "vmid": 100 + i } }))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), 202, "dispatch refused");
            let accepted = sent.elapsed();
            let body: Value = res.json().await.unwrap();
            (body["data"]["id"].as_str().unwrap().to_owned(), sent, accepted)
        }));
    }
    let mut dispatched = Vec::with_capacity(o.commands);
    for task in sending {
        dispatched.push(task.await.unwrap());
    }
    let count = || shared.receipts.lock().unwrap().len();
    drained(o.commands, count).await;
    let dispatch_cpu = cpu_time(pid) - cpu;
    let background_beats = background.await.unwrap();
    let receipts = std::mem::take(&mut *shared.receipts.lock().unwrap());
    let mut to_receipt: Vec<Duration> = dispatched
        .iter()
        .filter_map(|(id, sent, _)| receipts.get(id).map(|r| r.saturating_duration_since(*sent)))
        .collect();
    let mut accepted: Vec<Duration> = dispatched.iter().map(|(_, _, a)| *a).collect();
    let mut background_latencies = std::mem::take(&mut *shared.beat_latencies.lock().unwrap());
    // Let the last acks and results land before the final reading.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_end = status_kb(pid, "VmRSS");
    let hwm_end = status_kb(pid, "VmHWM");
    let client_rss = status_kb(0, "VmRSS");

    println!();
    println!("| phase | count | p50 ms | p99 ms | max ms |");
    println!("|---|---|---|---|---|");
    println!(
        "{}",
        latency_row("WebSocket connect (to `connected` frame)", &mut connect_latencies)
    );
    println!(
        "{}",
        latency_row(&format!("heartbeat reply, paced at {:.0}/s", o.beat_rate), &mut paced)
    );
    println!(
        "{}",
        latency_row(
            &format!("heartbeat reply, flood ({} per agent, 1 outstanding)", o.flood),
            &mut flooded
        )
    );
    println!(
        "{}",
        latency_row(
            &format!("heartbeat reply during dispatch ({:.0}/s)", n as f64 / 30.0),
            &mut background_latencies
        )
    );
    println!(
        "{}",
        latency_row(&format!("dispatch HTTP 202, {:.0}/s", o.command_rate), &mut accepted)
    );
    println!(
        "{}",
        latency_row("dispatch to `agent.command.assigned` at the agent", &mut to_receipt)
    );
    println!();
    println!("| what | value |");
    println!("|---|---|");
    println!(
        "| pairing {n} agents over HTTP ({PAIRING_CLIENTS} clients) | {:.1} s |",
        paired.as_secs_f64()
    );
    println!(
        "| connecting {n} sockets ({CONNECTING} at a time) | {:.1} s |",
        connected.as_secs_f64()
    );
    println!(
        "| heartbeats handled, paced | {:.0}/s ({} in {:.1} s), server CPU {:.0} µs each |",
        paced.len() as f64 / paced_wall.as_secs_f64(),
        paced.len(),
        paced_wall.as_secs_f64(),
        paced_cpu.as_secs_f64() * 1e6 / paced.len().max(1) as f64
    );
    println!(
        "| heartbeats handled, flood | {:.0}/s ({} in {:.1} s), server CPU {:.0} µs each |",
        flooded.len() as f64 / flood_wall.as_secs_f64(),
        flooded.len(),
        flood_wall.as_secs_f64(),
        flood_cpu.as_secs_f64() * 1e6 / flooded.len().max(1) as f64
    );
    println!(
        "| commands received / dispatched | {} / {} (server CPU {:.1} s, {} background heartbeats) |",
        to_receipt.len(),
        dispatched.len(),
        dispatch_cpu.as_secs_f64(),
        background_beats
    );
    println!("| agent-side errors | {} |", shared.errors.load(Ordering::Relaxed));
    println!(
        "| server VmRSS: ready / {n} paired / {n} connected idle | {:.1} / {:.1} / {:.1} MB |",
        mb(rss_ready),
        mb(rss_paired),
        mb(rss_idle)
    );
    println!(
        "| server VmRSS per connected socket | {:.1} KB |",
        (rss_idle.saturating_sub(rss_paired)) as f64 / n as f64
    );
    println!(
        "| server VmRSS after heartbeats / at the end | {:.1} / {:.1} MB |",
        mb(rss_beats),
        mb(rss_end)
    );
    println!(
        "| server VmHWM idle / at the end | {:.1} / {:.1} MB |",
        mb(hwm_idle),
        mb(hwm_end)
    );
    println!("| bench process VmRSS ({n} clients) | {:.1} MB |", mb(client_rss));

    stop(server);
}
