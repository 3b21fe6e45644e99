//! The one sender: claims the earliest due outbox row (one commit), delivers it, marks it
//! (another commit). Rows go out one at a time, which also keeps a chat under Telegram's
//! per-chat rate. A restart first puts rows left `sending` back to `pending`.

use std::time::Duration;

use serde_json::json;

use super::prefs::{Channel, Prefs, Target};
use super::rules::Notice;
use super::store::{self, Claimed, Next, MAX_ATTEMPTS};
use super::{telegram, webhook, Notifications, Outcome};
use crate::clock::{iso_ms, now_ms};
use crate::db::{Conn, DbError};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

/// 1 s after the first failure, doubling, at most 512 s: with [`MAX_ATTEMPTS`] a row rides out
/// an outage of about an hour and a half.
fn backoff(failures: i64) -> Duration {
    Duration::from_secs(1u64 << failures.clamp(1, 10).saturating_sub(1)).min(Duration::from_secs(600))
}

/// The longest sleep with nothing pending: every write that enqueues wakes the sender at
/// once, so this only bounds the cost of a wake that was missed.
const IDLE: Duration = Duration::from_secs(60);

/// Delivers until shutdown. A shutdown lets the delivery in flight finish and be marked.
pub async fn run(state: AppState) {
    match state
        .db
        .write(|tx| store::requeue_in_flight(tx).map_err(ApiError::from))
        .await
    {
        Ok(0) => {}
        Ok(rows) => tracing::warn!(rows, "notifications in flight when the server stopped are sent again"),
        Err(e) => tracing::warn!(error = %e.message, "cannot requeue notifications in flight"),
    }
    let mut shutdown = state.shutdown.clone();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let wait = match step(&state).await {
            Ok(None) => continue,
            Ok(Some(wait)) => wait,
            Err(e) => {
                tracing::warn!(error = %e.message, "notification sender step failed");
                Duration::from_secs(5)
            }
        };
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = state.notifications.wake.notified() => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
    }
}

/// Delivers one due row (`None`), or says how long nothing is due.
async fn step(state: &AppState) -> ApiResult<Option<Duration>> {
    let now = now_ms();
    match state
        .db
        .read(|conn| store::next_due(conn).map_err(ApiError::from))
        .await?
    {
        None => return Ok(Some(IDLE)),
        Some(at) if at > now => return Ok(Some(Duration::from_millis((at - now) as u64))),
        Some(_) => {}
    }
    let vault = state.vault.clone();
    let claimed = state
        .db
        .write(move |tx| loop {
            let row = match store::claim_next(tx, now)? {
                Next::Claimed(row) => row,
                Next::DueAt(at) => return Ok(Err(Duration::from_millis((at - now).max(1) as u64))),
                Next::Idle => return Ok(Err(IDLE)),
            };
            let prefs = Prefs::load(tx, &row.tenant_id)?;
            let target = match prefs.is_on(row.channel) {
                true => prefs.target(crate::db::sqlite_only(tx)?, &vault, &row.tenant_id, row.channel)?,
                false => None,
            };
            match target {
                Some(target) => return Ok::<_, ApiError>(Ok((row, target))),
                None => store::mark_failed(tx, row.id, "the channel was switched off or is incomplete")?,
            }
        })
        .await?;
    let (row, target) = match claimed {
        Ok(claimed) => claimed,
        Err(wait) => return Ok(Some(wait)),
    };
    let outcome = deliver(&state.notifications, &row, &target).await;
    if let Outcome::Retry { error, .. } | Outcome::Failed(error) = &outcome {
        tracing::warn!(delivery = row.id, channel = row.channel.as_str(), %error, "notification not delivered");
    }
    let now = now_ms();
    state
        .db
        .write(move |tx| settle(tx, &row, &outcome, now).map_err(ApiError::from))
        .await?;
    Ok(None)
}

fn settle(tx: &dyn Conn, row: &Claimed, outcome: &Outcome, now: i64) -> Result<(), DbError> {
    match outcome {
        Outcome::Sent => store::mark_sent(tx, row.id, now),
        Outcome::Retry { after, error } if row.attempts + 1 < MAX_ATTEMPTS => {
            let at = now + after.unwrap_or_else(|| backoff(row.attempts + 1)).as_millis() as i64;
            store::mark_retry(tx, row.id, at, error)?;
            if after.is_some() {
                store::hold_channel(tx, &row.tenant_id, row.channel, at)?;
            }
            Ok(())
        }
        Outcome::Retry { error, .. } | Outcome::Failed(error) => store::mark_failed(tx, row.id, error),
    }
}

/// One attempt of one row on its channel.
pub async fn deliver(n: &Notifications, row: &Claimed, target: &Target) -> Outcome {
    match target {
        Target::Telegram { token, chat_id } => telegram::send(n, token, chat_id, &row.text).await,
        Target::Webhook { url, secret } => {
            let body = json!({
                "id": row.id,
                "tenant_id": row.tenant_id,
                "event": row.event,
                "text": row.text,
                "data": row.data,
                "created_at": iso_ms(row.created_at),
            });
            let body = serde_json::to_vec(&body).expect("JSON serialises");
            webhook::send(n, url, secret.as_deref(), row.id, &row.event, body).await
        }
    }
}

/// Sends `notice` on `channel` at once, once (the "send test message" button), and records
/// it in the delivery history. The channel needs its settings, not its switch.
pub async fn send_now(state: &AppState, tenant: &str, channel: Channel, notice: Notice) -> ApiResult<i64> {
    let (vault, tenant, now) = (state.vault.clone(), tenant.to_owned(), now_ms());
    let (row, target) = state
        .db
        .write(move |tx| {
            let target = Prefs::load(tx, &tenant)?
                .target(crate::db::sqlite_only(tx)?, &vault, &tenant, channel)?
                .ok_or(ErrorCode::NotificationChannelNotConfigured)?;
            let id = store::insert(tx, &tenant, channel, &notice, "sending", now)?;
            let row = Claimed {
                id,
                tenant_id: tenant,
                channel,
                event: notice.kind.as_str().to_owned(),
                text: notice.text,
                data: notice.data,
                attempts: 0,
                created_at: now,
            };
            Ok::<_, ApiError>((row, target))
        })
        .await?;
    let id = row.id;
    let failure = match deliver(&state.notifications, &row, &target).await {
        Outcome::Sent => None,
        Outcome::Retry { error, .. } | Outcome::Failed(error) => Some(error),
    };
    let (recorded, now) = (failure.clone(), now_ms());
    state
        .db
        .write(move |tx| {
            match &recorded {
                None => store::mark_sent(tx, id, now),
                Some(error) => store::mark_failed(tx, id, error),
            }
            .map_err(ApiError::from)
        })
        .await?;
    match failure {
        None => Ok(id),
        Some(error) => Err(ApiError::new(ErrorCode::NotificationDeliveryFailed).with_message(error)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn backoff_doubles_up_to_512_seconds() {
        let secs: Vec<u64> = (1..=12).map(|n| super::backoff(n).as_secs()).collect();
        assert_eq!(secs, [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 512, 512]);
        assert_eq!(super::backoff(40), Duration::from_secs(512));
    }
}
