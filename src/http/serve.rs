//! The accept loop, in place of `axum::serve`, for what that one cannot do: a cap on open
//! connections and time limits on reading a request. A flood of slow clients then holds at
//! most `max_connections` sockets, each for a bounded time, and cannot shut the rest out.
//!
//! - Headers must arrive within `header_timeout`. hyper starts that clock whenever the
//!   connection waits for a request, so it also closes an idle keep-alive connection.
//! - A request body may pause at most `body_timeout` between two pieces (a total limit would
//!   cut off large uploads on slow links).
//! - Once upgraded (WebSocket) or streaming a response (SSE), a connection is past both
//!   limits and lives as long as it is used.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower::ServiceExt as _;
use tower_http::timeout::TimeoutBody;

/// The server's own address on the connection: what a client actually reached, unlike a
/// `Host` header, which is the client's to write.
#[derive(Debug, Clone, Copy)]
pub struct LocalAddr(pub SocketAddr);

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
}

/// Serves `app` until `shutdown` resolves, then lets the requests in flight finish.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits, shutdown: impl Future<Output = ()>) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closing_rx) = watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        // A free slot first: past the cap, new connections wait in the kernel's backlog
        // instead of costing a socket and a task each.
        let permit = tokio::select! {
            permit = slots.clone().acquire_owned() => permit.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        match accepted {
            Ok((stream, remote)) => {
                let connection = connection(stream, remote, app.clone(), limits, permit, closing_rx.clone());
                tokio::spawn(connection);
            }
            Err(e) => {
                // Out of file descriptors and the like: pause rather than spin.
                tracing::warn!(error = %e, "cannot accept a connection");
                drop(permit);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    drop(listener);
    drop(closing_rx);
    let _ = closing.send(true);
    // Every connection task holds a receiver: this returns when the last one has finished.
    closing.closed().await;
}

async fn connection(
    stream: TcpStream,
    remote: SocketAddr,
    app: Router,
    limits: Limits,
    _slot: OwnedSemaphorePermit,
    mut closing: watch::Receiver<bool>,
) {
    let local = stream.local_addr().ok();
    let service = hyper::service::service_fn(move |request: hyper::Request<Incoming>| {
        let mut request = request.map(|body| Body::new(TimeoutBody::new(limits.body_timeout, body)));
        request.extensions_mut().insert(ConnectInfo(remote));
        if let Some(local) = local {
            request.extensions_mut().insert(LocalAddr(local));
        }
        app.clone().oneshot(request)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut conn = std::pin::pin!(conn);
    let closed = tokio::select! {
        _ = conn.as_mut() => true,
        _ = closing.wait_for(|closing| *closing) => false,
    };
    if !closed {
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}
