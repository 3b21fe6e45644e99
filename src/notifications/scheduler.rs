//! The scheduler inside the binary: every `scheduler_tick_ms` it runs each job that is due.
//! When a job last ran and what it announced are rows in SQLite, committed together with the
//! outbox rows the job wrote, so a restart neither repeats nor skips an announcement.
//!
//! Jobs take `now` as an argument: the clock is the caller's, so tests and the loop decide
//! what time it is.

use std::fmt::Write as _;

use serde_json::{json, Value};
use time::macros::format_description;
use time::OffsetDateTime;

use super::prefs::Prefs;
use super::rules::{self, Kind, Notice};
use super::store;
use crate::agents::store::ONLINE_WITHIN_MS;
use crate::auth::Principal;
use crate::clock::now_ms;
use crate::documents::Collection;
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::state::AppState;

const MINUTE_MS: i64 = 60_000;
const HOUR_MS: i64 = 60 * MINUTE_MS;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Finished deliveries stay in the history this long.
const KEEP_HISTORY_MS: i64 = 30 * DAY_MS;
/// Lines of one expiry message; the rest are counted.
const MAX_LINES: usize = 20;

/// Server-wide jobs keep their state under this tenant id.
const SERVER: &str = "";
const PRESENCE: &str = "presence";
const PRUNE: &str = "prune";
const EXPIRY: &str = "expiry";
const PROXY_RECHECK: &str = "proxy_recheck";

/// Runs due jobs every tick until shutdown.
pub async fn run(state: AppState) {
    let mut shutdown = state.shutdown.clone();
    let mut ticks = tokio::time::interval(std::time::Duration::from_millis(state.config.scheduler_tick_ms));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
        tick(&state, now_ms()).await;
    }
}

/// One pass over every job at `now`. Each job answers how many outbox rows it may have
/// written; the sender is woken when any may have. A failing job is logged and tried again
/// next tick.
pub async fn tick(state: &AppState, now: i64) {
    let outcomes = [
        ("presence", presence(state, now).await),
        ("prune", prune(state, now).await),
    ];
    let mut enqueued: usize = outcomes.iter().map(|(_, r)| r.as_ref().copied().unwrap_or(0)).sum();
    log_failures(&outcomes, None);
    let tenants = match state.db.read(|conn| store::tenants(conn).map_err(ApiError::from)).await {
        Ok(tenants) => tenants,
        Err(e) => return tracing::warn!(error = %e.message, "scheduler cannot list tenants"),
    };
    for tenant in tenants {
        let outcomes = [
            ("daily_report", daily_report(state, &tenant, now).await),
            ("expiry", expiring_resources(state, &tenant, now).await),
            ("proxy_recheck", proxy_recheck(state, &tenant, now).await),
        ];
        enqueued += outcomes
            .iter()
            .map(|(_, r)| r.as_ref().copied().unwrap_or(0))
            .sum::<usize>();
        log_failures(&outcomes, Some(&tenant));
    }
    if enqueued > 0 {
        state.notifications.wake();
    }
}

fn log_failures(outcomes: &[(&str, ApiResult<usize>)], tenant: Option<&str>) {
    for (job, outcome) in outcomes {
        if let Err(e) = outcome {
            tracing::warn!(job, tenant, error = %e.message, "scheduled job failed");
        }
    }
}

/// Whether a job last run at `last` is due again at `now`.
fn interval_due(last: Option<i64>, every_ms: i64, now: i64) -> bool {
    last.is_none_or(|t| now - t >= every_ms)
}

/// The local date whose report is due at `now` (once the report time has passed that local
/// day), as `YYYY-MM-DD`.
fn report_day(now: i64, minute_of_day: i64, utc_offset_minutes: i64) -> Option<String> {
    let local = now + utc_offset_minutes * MINUTE_MS;
    (local.rem_euclid(DAY_MS) >= minute_of_day * MINUTE_MS).then(|| {
        OffsetDateTime::from_unix_timestamp(local.div_euclid(DAY_MS) * 86_400)
            .map(|t| t.date().to_string())
            .unwrap_or_default()
    })
}

fn day_of(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| t.format(format_description!("[day].[month].[year]")).ok())
        .unwrap_or_default()
}

/// Bots and agents that went silent since the last sweep (their heartbeats announce coming
/// back; silence has no write to hook, so it is found here). The first sweep only starts the
/// clock, so old silences are not announced.
async fn presence(state: &AppState, now: i64) -> ApiResult<usize> {
    state
        .db
        .write(move |tx| {
            let last = store::last_run(tx, SERVER, PRESENCE)?;
            store::set_last_run(tx, SERVER, PRESENCE, now)?;
            let Some(last) = last.filter(|t| *t < now) else {
                return Ok(0);
            };
            let mut enqueued = 0;
            let bots = store::bots_seen_between(
                tx,
                last - crate::bots::rules::BOT_STALE_MS,
                now - crate::bots::rules::BOT_STALE_MS,
            )?;
            for (tenant, bot) in bots {
                enqueued += store::enqueue(tx, &tenant, &[rules::bot_offline(&bot)], now)?;
            }
            for (tenant, id, name) in store::agents_seen_between(tx, last - ONLINE_WITHIN_MS, now - ONLINE_WITHIN_MS)? {
                enqueued += store::enqueue(tx, &tenant, &[rules::agent_presence(&id, &name, false)], now)?;
            }
            Ok(enqueued)
        })
        .await
}

async fn prune(state: &AppState, now: i64) -> ApiResult<usize> {
    state
        .db
        .write(move |tx| {
            if interval_due(store::last_run(tx, SERVER, PRUNE)?, DAY_MS, now) {
                store::prune(tx, now - KEEP_HISTORY_MS)?;
                store::set_last_run(tx, SERVER, PRUNE, now)?;
            }
            Ok(0)
        })
        .await
}

/// The daily report, once per local day after its time (settings `notifications/daily_report`).
async fn daily_report(state: &AppState, tenant: &str, now: i64) -> ApiResult<usize> {
    let tenant = tenant.to_owned();
    state
        .db
        .write(move |tx| {
            let prefs = Prefs::load(tx, &tenant)?;
            if !prefs.wants(Kind::DailyReport) || prefs.channels().is_empty() {
                return Ok(0);
            }
            let (minute, offset) = prefs.daily_report_at();
            let Some(day) = report_day(now, minute, offset) else {
                return Ok(0);
            };
            if !store::mark(tx, &tenant, &format!("daily_report:{day}"), now)? {
                return Ok(0);
            }
            let notice = report(crate::db::sqlite_only(tx)?, &tenant, &prefs, &day, now)?;
            Ok(store::enqueue(tx, &tenant, &[notice], now)?)
        })
        .await
}

/// The three resource kinds with their expiry threshold in days (spec §6.3) and their name.
fn expiring_kinds(prefs: &Prefs) -> [(Collection, i64, &'static str); 3] {
    [
        (Collection::Licenses, 3, "License"),
        (Collection::Proxies, 7, "Proxy"),
        (Collection::Subscriptions, prefs.warning_days(), "Subscription"),
    ]
}

fn report(tx: &rusqlite::Connection, tenant: &str, prefs: &Prefs, day: &str, now: i64) -> ApiResult<Notice> {
    let bots = store::bot_status_counts(tx, tenant)?;
    let total: i64 = bots.iter().map(|(_, n)| n).sum();
    let mut text = format!("📊 Daily report for {day}\nBots: {total}");
    if !bots.is_empty() {
        let parts: Vec<String> = bots.iter().map(|(s, n)| format!("{s} {n}")).collect();
        let _ = write!(text, " ({})", parts.join(", "));
    }
    let mut resources = serde_json::Map::new();
    for (coll, threshold, name) in expiring_kinds(prefs) {
        let r = crate::resources::store::report(tx, tenant, coll, threshold, now)?;
        let (soon, expired) = (r.expiring_soon.len(), r.expired.len());
        let _ = write!(
            text,
            "\n{name}s: {soon} expiring within {threshold} d, {expired} expired"
        );
        resources.insert(
            coll.as_str().into(),
            json!({ "expiring_soon": soon, "expired": expired }),
        );
    }
    let bot_counts: serde_json::Map<String, Value> = bots.iter().map(|(s, n)| (s.clone(), (*n).into())).collect();
    let deliveries: serde_json::Map<String, Value> = store::delivery_counts(tx, tenant, now - DAY_MS)?
        .into_iter()
        .map(|(status, n)| (status, n.into()))
        .collect();
    let failed = deliveries.get("failed").and_then(Value::as_i64).unwrap_or(0);
    if failed > 0 {
        let _ = write!(text, "\nNotifications that failed in the last 24 h: {failed}");
    }
    Ok(Notice {
        kind: Kind::DailyReport,
        text,
        data: json!({ "day": day, "bots": bot_counts, "resources": resources, "deliveries": deliveries }),
    })
}

/// Each resource that entered "expiring soon" or "expired" since it was last announced, in
/// one message, at most hourly.
async fn expiring_resources(state: &AppState, tenant: &str, now: i64) -> ApiResult<usize> {
    let tenant = tenant.to_owned();
    state
        .db
        .write(move |tx| {
            if !interval_due(store::last_run(tx, &tenant, EXPIRY)?, HOUR_MS, now) {
                return Ok(0);
            }
            store::set_last_run(tx, &tenant, EXPIRY, now)?;
            let prefs = Prefs::load(tx, &tenant)?;
            if !prefs.wants(Kind::ResourceExpiring) || prefs.channels().is_empty() {
                return Ok(0);
            }
            let mut lines = Vec::new();
            let mut items = Vec::new();
            for (coll, threshold, name) in expiring_kinds(&prefs) {
                let r = crate::resources::store::report(crate::db::sqlite_only(tx)?, &tenant, coll, threshold, now)?;
                let states = r
                    .expired
                    .iter()
                    .map(|i| ("expired", i))
                    .chain(r.expiring_soon.iter().map(|i| ("expiring", i)));
                for (what, item) in states {
                    let key = format!("{what}:{}:{}:{}", coll.as_str(), item.id, item.expires_at);
                    if !store::mark(tx, &tenant, &key, now)? {
                        continue;
                    }
                    lines.push(match what {
                        "expired" => format!("• {name} {} expired on {}", item.id, day_of(item.expires_at)),
                        _ => format!(
                            "• {name} {} expires in {} d ({})",
                            item.id,
                            item.days_remaining,
                            day_of(item.expires_at)
                        ),
                    });
                    items.push(
                        json!({ "kind": coll.as_str(), "id": item.id, "state": what, "expires_at": item.expires_at }),
                    );
                }
            }
            if lines.is_empty() {
                return Ok(0);
            }
            let more = lines.len().saturating_sub(MAX_LINES);
            lines.truncate(MAX_LINES);
            let mut text = format!("⏳ Resources need attention\n{}", lines.join("\n"));
            if more > 0 {
                let _ = write!(text, "\n…and {more} more");
            }
            let notice = Notice {
                kind: Kind::ResourceExpiring,
                text,
                data: json!({ "items": items }),
            };
            Ok(store::enqueue(tx, &tenant, &[notice], now)?)
        })
        .await
}

/// Re-checks the tenant's proxies with the IP-quality provider every
/// `proxy.check_interval_hours`, storing the answer on each proxy and banning (and
/// announcing) those whose fraud score is above `proxy.fraud_score_threshold`. Counts the
/// proxies checked: each may have enqueued a notice.
async fn proxy_recheck(state: &AppState, tenant: &str, now: i64) -> ApiResult<usize> {
    let owned = tenant.to_owned();
    let (prefs, last) = state
        .db
        .read(move |conn| {
            Ok::<_, ApiError>((
                Prefs::load(conn, &owned)?,
                store::last_run(conn, &owned, PROXY_RECHECK)?,
            ))
        })
        .await?;
    let hours = prefs.check_interval_hours();
    if hours <= 0 || !interval_due(last, hours * HOUR_MS, now) {
        return Ok(0);
    }
    // Without a usable key there is nothing to do; the job runs as soon as one is set.
    let Ok(key) = crate::ipqs::service::usable_key(&crate::ipqs::service::setup(state, tenant).await?) else {
        return Ok(0);
    };
    let owned = tenant.to_owned();
    let proxies = state
        .db
        .read(move |conn| store::proxies_to_check(conn, &owned).map_err(ApiError::from))
        .await?;
    let scheduler = Principal {
        user_id: "system:scheduler".into(),
        session_id: String::new(),
        email: "scheduler".into(),
        roles: Vec::new(),
        tenant_id: tenant.to_owned(),
        csrf_token: None,
        operator: false,
    };
    let threshold = prefs.fraud_threshold();
    let mut checked = 0;
    for (id, ip) in proxies {
        match state.ipqs.check(&key, &ip).await {
            Ok(answer) => match apply_check(state, &scheduler, id.clone(), answer, threshold, now).await {
                Ok(()) => checked += 1,
                Err(e) => tracing::warn!(proxy = %id, error = %e.message, "cannot store a proxy re-check"),
            },
            // The provider will refuse the rest too; the next run starts over.
            Err(e) if e.code == ErrorCode::IpqsRateLimited => break,
            Err(e) => tracing::warn!(proxy = %id, error = %e.message, "proxy re-check failed"),
        }
    }
    let owned = tenant.to_owned();
    state
        .db
        .write(move |tx| store::set_last_run(tx, &owned, PROXY_RECHECK, now).map_err(ApiError::from))
        .await?;
    Ok(checked)
}

/// Provider fields copied onto a proxy, as the UI does after a manual check (spec §6.2).
const CHECK_FIELDS: [&str; 12] = [
    "country_code",
    "city",
    "region",
    "isp",
    "organization",
    "timezone",
    "latitude",
    "longitude",
    "vpn",
    "proxy",
    "tor",
    "bot_status",
];

async fn apply_check(
    state: &AppState,
    scheduler: &Principal,
    id: String,
    answer: Value,
    threshold: i64,
    now: i64,
) -> ApiResult<()> {
    let score = answer
        .get("fraud_score")
        .and_then(Value::as_f64)
        .map(|s| (s.round() as i64).clamp(0, 100));
    let tenant = scheduler.tenant_id.clone();
    crate::resources::service::update_proxy(state, scheduler, id, move |tx, doc| {
        for field in CHECK_FIELDS {
            if let Some(v) = answer.get(field) {
                doc.insert(field.into(), v.clone());
            }
        }
        doc.insert("last_checked".into(), now.into());
        let Some(score) = score else { return Ok(()) };
        doc.insert("fraud_score".into(), score.into());
        if score > threshold && doc.get("status").and_then(Value::as_str) != Some("banned") {
            doc.insert("status".into(), "banned".into());
            store::enqueue(tx, &tenant, &[rules::proxy_flagged(doc, score, threshold)], now)?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_survive_restarts_because_they_count_from_the_stored_run() {
        assert!(interval_due(None, HOUR_MS, 0));
        assert!(!interval_due(Some(1_000), 6 * HOUR_MS, 1_000 + 6 * HOUR_MS - 1));
        assert!(interval_due(Some(1_000), 6 * HOUR_MS, 1_000 + 6 * HOUR_MS));
    }

    #[test]
    fn the_report_day_is_local_and_starts_at_the_report_time() {
        // 2026-01-05T06:30Z.
        let now = 1_767_594_600_000;
        assert_eq!(report_day(now, 9 * 60, 0), None);
        assert_eq!(report_day(now, 6 * 60, 0).as_deref(), Some("2026-01-05"));
        // UTC+3: 09:30 local.
        assert_eq!(report_day(now, 9 * 60, 180).as_deref(), Some("2026-01-05"));
        // UTC-8: 22:30 the day before.
        assert_eq!(report_day(now, 22 * 60, -480).as_deref(), Some("2026-01-04"));
        assert_eq!(day_of(now), "05.01.2026");
    }
}
