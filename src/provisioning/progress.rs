//! Setup progress (`api-ops.md` §8.4): the steps a VM reports with its token, read back by its
//! owner as a list or as a live feed that wakes on each new report.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;

use super::rules::Report;
use super::service::own_token;
use super::store::{self, ProgressEvent, TokenRow};
use super::tokens;
use crate::auth::Principal;
use crate::clock::{iso_ms, now_ms};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Stores a step of the token's VM; `completed`/`completed` uses the token up.
pub(super) async fn report(state: &AppState, report: Report) -> ApiResult<ProgressEvent> {
    let now = now_ms();
    let event = ProgressEvent {
        id: uuid::Uuid::new_v4().to_string(),
        vm_uuid: String::new(),
        token_id: String::new(),
        step: report.step,
        status: report.status,
        details: report.details,
        created_at: iso_ms(now),
        updated_at: iso_ms(now),
    };
    let (token, vm) = (report.token, report.vm_uuid);
    let event = state
        .db
        .write(move |tx| {
            // Checked and used up in one transaction: no report slips past a completion.
            let row = tokens::check(tx, &token, &vm, now)?;
            let event = ProgressEvent {
                vm_uuid: row.vm_uuid.clone(),
                token_id: row.id.clone(),
                ..event
            };
            store::add_progress(tx, &row, &event, now)?;
            if event.step == "completed" && event.status == "completed" {
                store::mark_used(tx, &row.id, now)?;
            }
            Ok::<_, ApiError>(event)
        })
        .await?;
    state.waiters.progressed();
    Ok(event)
}

/// A VM's progress as its owner sees it.
pub(super) struct Snapshot {
    /// In arrival order.
    pub events: Vec<ProgressEvent>,
    /// The last event's time, or now (ms).
    pub updated_at: i64,
    /// The caller's current token of the VM.
    pub token: Option<TokenRow>,
}

pub(super) async fn snapshot(state: &AppState, me: &Principal, vm_uuid: String) -> ApiResult<Snapshot> {
    let (tenant, user, vm) = (me.tenant_id.clone(), me.user_id.clone(), vm_uuid.clone());
    let rows = state
        .db
        .read(move |conn| store::progress(conn, &tenant, &user, &vm, 0).map_err(ApiError::from))
        .await?;
    let last = rows.last().map(|(_, at, _)| *at);
    let events = rows.into_iter().map(|(_, _, event)| event).collect();
    let token = own_token(state, me, vm_uuid).await?;
    Ok(Snapshot {
        events,
        updated_at: last.unwrap_or_else(now_ms),
        token,
    })
}

/// The caller's events of a VM after sequence `cursor`, each with its sequence: the stored
/// ones first, then each new one as it is reported. Ends when the server stops.
pub(super) fn follow(
    state: AppState,
    me: Principal,
    vm_uuid: String,
    cursor: i64,
) -> impl Stream<Item = (i64, ProgressEvent)> {
    let scope = Arc::new((me.tenant_id, me.user_id, vm_uuid));
    futures_util::stream::unfold(
        (state, scope, cursor, VecDeque::new()),
        |(state, scope, mut cursor, mut pending)| async move {
            let mut shutdown = state.shutdown.clone();
            loop {
                if *shutdown.borrow() {
                    return None;
                }
                if let Some(event) = pending.pop_front() {
                    return Some((event, (state, scope, cursor, pending)));
                }
                // Registered before the read, so a report committed in between still wakes us.
                let woken = state.waiters.progress.notified();
                tokio::pin!(woken);
                woken.as_mut().enable();
                let (s, after) = (scope.clone(), cursor);
                let batch = state
                    .db
                    .read(move |conn| store::progress(conn, &s.0, &s.1, &s.2, after).map_err(ApiError::from))
                    .await
                    .ok()?;
                for (seq, _, event) in batch {
                    cursor = seq;
                    pending.push_back((seq, event));
                }
                if pending.is_empty() {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
                        _ = shutdown.changed() => {}
                        _ = woken => {}
                    }
                }
            }
        },
    )
}
