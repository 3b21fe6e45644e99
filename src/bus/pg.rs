//! The bus over PostgreSQL: each replica sends its signals as `NOTIFY botmox, '<json>'` from
//! a thread of its own, and listens on one connection on another thread.
//!
//! Both threads use the synchronous client, which runs a runtime of its own: they are plain
//! threads, never tokio's. A signal is sent after its write committed; the sender batches
//! what queued up meanwhile into one statement. Losing a connection loses signals, so each
//! side makes up for it once it is back: the sender sends a [`Signal::Resync`] before anything
//! else, and the listener hands its replica [`Heard::Reconnected`]. Either way every waiter
//! re-reads the database, so nothing missed stays missed.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;
use serde::{Deserialize, Serialize};

use super::{store, Signal};

/// The listener's and the sender's connections, by these names in `pg_stat_activity`.
pub const LISTENER_NAME: &str = "botmox-bus-listen";
pub const SENDER_NAME: &str = "botmox-bus-send";
/// How often the listener looks up from waiting (to stop, or to check its connection).
const TICK: Duration = Duration::from_millis(250);
/// A connection quiet this long is pinged: a dead network would otherwise go unnoticed.
const PING_AFTER: Duration = Duration::from_secs(15);
/// Below PostgreSQL's limit on a notification's payload, with room to spare.
const MAX_PAYLOAD: usize = 4000;
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(5);

/// One notification's payload: who sent it, and what.
#[derive(Serialize, Deserialize)]
struct Envelope {
    o: String,
    s: Signal,
}

/// The sending half: a queue to the sender thread. The thread ends when this is dropped.
pub struct Sender {
    origin: String,
    config: postgres::Config,
    queue: mpsc::Sender<Signal>,
}

impl Sender {
    /// Starts the sender thread for the database at `url` (connected on first use).
    pub fn start(url: &str) -> Result<Sender, postgres::Error> {
        let mut config = postgres::Config::from_str(url)?;
        config.connect_timeout(Duration::from_secs(5));
        let origin = format!("{:016x}", rand::random::<u64>());
        let (queue, signals) = mpsc::channel();
        let (mut own, mark) = (config.clone(), origin.clone());
        own.application_name(SENDER_NAME);
        std::thread::Builder::new()
            .name("bus-send".into())
            .spawn(move || send_loop(&own, &mark, &signals))
            .expect("the bus sender thread starts");
        Ok(Sender { origin, config, queue })
    }

    pub fn send(&self, signal: Signal) {
        // The thread only stops once every sender is gone, so this cannot fail while we live.
        let _ = self.queue.send(signal);
    }
}

/// Growing pauses between connection attempts.
struct Backoff(Duration);

impl Backoff {
    fn new() -> Self {
        Backoff(BACKOFF_FIRST)
    }

    fn next(&mut self) -> Duration {
        let wait = self.0;
        self.0 = (self.0 * 2).min(BACKOFF_MAX);
        wait
    }
}

fn send_loop(config: &postgres::Config, origin: &str, signals: &mpsc::Receiver<Signal>) {
    let mut client: Option<postgres::Client> = None;
    // Whether signals were dropped since the last successful send.
    let mut lost = false;
    let mut backoff = Backoff::new();
    let mut retry_at = Instant::now();
    loop {
        let mut batch = Vec::new();
        let first = if lost {
            // Keep trying to send the resync even when nothing new comes.
            match signals.recv_timeout(retry_at.saturating_duration_since(Instant::now())) {
                Ok(signal) => Some(signal),
                Err(mpsc::RecvTimeoutError::Timeout) => None,
                Err(mpsc::RecvTimeoutError::Disconnected) => return,
            }
        } else {
            match signals.recv() {
                Ok(signal) => Some(signal),
                Err(_) => return,
            }
        };
        batch.extend(first);
        batch.extend(signals.try_iter());
        if client.is_none() {
            if Instant::now() < retry_at {
                lost = true;
                continue;
            }
            match config.connect(postgres::NoTls) {
                Ok(connected) => {
                    client = Some(connected);
                    backoff = Backoff::new();
                }
                Err(e) => {
                    tracing::warn!(error = %e, "the bus cannot reach PostgreSQL; other replicas will resync");
                    (lost, retry_at) = (true, Instant::now() + backoff.next());
                    continue;
                }
            }
        }
        if lost {
            batch.insert(0, Signal::Resync);
        }
        let payloads: Vec<String> = batch.into_iter().map(|s| payload(origin, s)).collect();
        match store::notify(client.as_mut().expect("connected above"), &payloads) {
            Ok(()) => lost = false,
            Err(e) => {
                tracing::warn!(error = %e, "the bus lost its PostgreSQL connection; other replicas will resync");
                client = None;
                (lost, retry_at) = (true, Instant::now() + backoff.next());
            }
        }
    }
}

/// A signal's notification text. PostgreSQL refuses a payload of 8000 bytes or more; one that
/// long (a made-up id) goes as a [`Signal::Resync`], which covers it.
fn payload(origin: &str, signal: Signal) -> String {
    let text = |s| {
        serde_json::to_string(&Envelope {
            o: origin.to_owned(),
            s,
        })
        .expect("a signal serialises")
    };
    let sent = text(signal);
    if sent.len() < MAX_PAYLOAD {
        sent
    } else {
        text(Signal::Resync)
    }
}

/// What the listener hands its replica.
#[derive(Debug, PartialEq)]
pub enum Heard {
    /// Another replica's signal.
    Signal(Signal),
    /// The connection was lost and is back: anything may have been missed meanwhile.
    Reconnected,
}

/// Listens while it lives: dropping it stops the thread within a tick.
pub struct Listener {
    stop: Arc<AtomicBool>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

impl Listener {
    /// Listens on the sender's database, handing `on` every signal but the sender's own.
    /// Returns once the first `LISTEN` is in place (or could not be).
    pub fn start(sender: &Sender, on: impl FnMut(Heard) + Send + 'static) -> Result<Listener, postgres::Error> {
        let mut config = sender.config.clone();
        config.application_name(LISTENER_NAME);
        let origin = sender.origin.clone();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let (ready, first) = mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("bus-listen".into())
            .spawn(move || match subscribe(&config) {
                Ok(client) => {
                    let _ = ready.send(Ok(()));
                    listen_loop(client, &config, &origin, &stopped, on);
                }
                Err(e) => drop(ready.send(Err(e))),
            })
            .expect("the bus listener thread starts");
        first
            .recv()
            .expect("the bus listener answers before it ends")
            .map(|()| Listener { stop })
    }
}

fn subscribe(config: &postgres::Config) -> Result<postgres::Client, postgres::Error> {
    let mut client = config.connect(postgres::NoTls)?;
    store::listen(&mut client)?;
    Ok(client)
}

fn listen_loop(
    mut client: postgres::Client,
    config: &postgres::Config,
    origin: &str,
    stop: &AtomicBool,
    mut on: impl FnMut(Heard),
) {
    let mut quiet_since = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        let next = client.notifications().timeout_iter(TICK).next();
        let alive = match next {
            Ok(Some(notification)) => {
                quiet_since = Instant::now();
                match serde_json::from_str::<Envelope>(notification.payload()) {
                    Ok(envelope) if envelope.o != origin => on(Heard::Signal(envelope.s)),
                    Ok(_) => {}
                    Err(e) => tracing::debug!(error = %e, "ignoring a bus notification this version does not read"),
                }
                true
            }
            Ok(None) if quiet_since.elapsed() >= PING_AFTER => {
                quiet_since = Instant::now();
                client.is_valid(Duration::from_secs(5)).is_ok()
            }
            Ok(None) => !client.is_closed(),
            Err(_) => false,
        };
        if alive {
            continue;
        }
        tracing::warn!("the bus listener lost its PostgreSQL connection; reconnecting");
        let mut backoff = Backoff::new();
        client = loop {
            std::thread::sleep(backoff.next());
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match subscribe(config) {
                Ok(client) => break client,
                Err(e) => tracing::warn!(error = %e, "the bus listener cannot reconnect yet"),
            }
        };
        quiet_since = Instant::now();
        on(Heard::Reconnected);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_payload_too_long_for_postgres_goes_as_a_resync() {
        let queue = Signal::Queue {
            tenant: "t".into(),
            agent: "a".into(),
        };
        let sent: Envelope = serde_json::from_str(&payload("o1", queue.clone())).unwrap();
        assert_eq!((sent.o.as_str(), sent.s), ("o1", queue));
        let huge = Signal::Queue {
            tenant: "t".into(),
            agent: "a".repeat(9000),
        };
        let sent: Envelope = serde_json::from_str(&payload("o1", huge)).unwrap();
        assert_eq!(sent.s, Signal::Resync);
    }
}
