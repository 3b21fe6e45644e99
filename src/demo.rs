//! `--demo`: a `demo` tenant with realistic sample data, for evaluating Bot-Mox without
//! typing anything in. Idempotent: a tenant that already has bots is left alone. While the
//! server runs, [`keep_alive`] stands in for the bots' own reports, so the fleet shows online
//! at any time after a start, not only in the first minutes after seeding.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

use crate::auth::password::hash_password;
use crate::auth::rules::normalise_roles;
use crate::auth::store::{self as users, NewUser};
use crate::bots::rules::{self, BanMechanism, BanRequest, BotStatus};
use crate::bots::store as bot_store;
use crate::clock::now_ms;
use crate::db::{Conn, DbError};
use crate::documents::{store, Collection, Document};
use crate::error::ApiError;
use crate::names::generator::{self, NameParams};
use crate::settings::tree::{self, SettingsPath};
use crate::state::AppState;
use crate::vault::Vault;
use botmox_contract::auth::Role;

pub const TENANT: &str = "demo";
pub const EMAIL: &str = "demo@botmox.local";
pub const PASSWORD: &str = "botmox-demo";
const DAY: i64 = 86_400_000;

/// What `seed` did.
pub enum Seeded {
    Created { documents: usize },
    AlreadyThere,
}

fn doc(value: Value) -> Document {
    match value {
        Value::Object(map) => map,
        _ => unreachable!("demo documents are objects"),
    }
}

fn put(
    conn: &dyn Conn,
    coll: Collection,
    id: &str,
    mut body: Document,
    created_at: i64,
    count: &mut usize,
) -> Result<(), DbError> {
    body.insert("id".into(), id.into());
    body.insert("created_at".into(), created_at.into());
    body.insert("updated_at".into(), created_at.into());
    store::insert(conn, TENANT, coll, id, &body, created_at)?;
    *count += 1;
    Ok(())
}

/// Fills the demo tenant and creates its user, in the caller's transaction.
pub fn seed(conn: &dyn Conn, vault: &Vault) -> anyhow::Result<Seeded> {
    if store::any(conn, TENANT, Collection::Bots)? {
        return Ok(Seeded::AlreadyThere);
    }
    if users::user_by_email(conn, TENANT, EMAIL)?.is_none() {
        let roles = normalise_roles([Role::Admin, Role::Infra]);
        let hash = hash_password(PASSWORD);
        users::insert_user(
            conn,
            &NewUser {
                tenant_id: TENANT,
                email: EMAIL,
                password_hash: &hash,
                roles: &roles,
            },
        )?;
    }
    let now = now_ms();
    let mut rng = StdRng::seed_from_u64(42);
    let mut count = 0;

    tree::update(conn, vault, TENANT, |t| {
        tree::set(t, &SettingsPath::of(&["projects"]), json!({
            "wow_tbc": { "id": "wow_tbc", "name": "WoW TBC", "game": "World of Warcraft", "expansion": "The Burning Crusade",
                "max_level": 70, "currency": "gold", "currency_symbol": "g", "server_region": "EU", "gold_price_usd": 15 },
            "wow_midnight": { "id": "wow_midnight", "name": "WoW Midnight", "game": "World of Warcraft", "expansion": "Midnight",
                "max_level": 90, "currency": "gold", "currency_symbol": "g", "server_region": "EU", "gold_price_usd": 9 }
        }));
        tree::set(t, &SettingsPath::of(&["alerts"]), json!({ "warning_days": 7 }));
    })
    .map_err(|e| anyhow::anyhow!("{}", e.message))?;

    let names = generator::generate(&NameParams {
        batches: 5,
        seed: Some(7),
        ..NameParams::default()
    });
    let plan = [
        (BotStatus::Offline, 4),
        (BotStatus::Prepare, 5),
        (BotStatus::Leveling, 10),
        (BotStatus::Profession, 6),
        (BotStatus::Farming, 11),
        (BotStatus::Banned, 4),
    ];
    let classes = [
        "warrior", "mage", "hunter", "rogue", "priest", "paladin", "druid", "warlock", "shaman",
    ];
    let mut i = 0;
    for (status, n) in plan {
        for _ in 0..n {
            i += 1;
            let id = format!("bot-demo-{i:02}");
            let project = if i % 3 == 0 { "wow_midnight" } else { "wow_tbc" };
            let max = if project == "wow_tbc" { 70 } else { 90 };
            let level = match status {
                BotStatus::Prepare | BotStatus::Offline => rng.gen_range(1..10),
                BotStatus::Leveling => rng.gen_range(10..max),
                _ => max,
            };
            let created = now - rng.gen_range(20..90) * DAY;
            let mut bot = doc(json!({
                "name": format!("vm-{i:02}"),
                "project_id": project,
                "character": { "name": names[i % names.len()], "level": level, "class": classes[i % classes.len()],
                    "race": if i % 2 == 0 { "orc" } else { "human" }, "server": "Firemaw",
                    "faction": if i % 2 == 0 { "horde" } else { "alliance" } },
                "last_seen": if status == BotStatus::Offline { now - rng.gen_range(1..5) * DAY } else { now - rng.gen_range(0..240_000) },
            }));
            let mut t = created;
            for step in [
                BotStatus::Prepare,
                BotStatus::Leveling,
                BotStatus::Profession,
                BotStatus::Farming,
            ] {
                let target = if status == BotStatus::Banned {
                    BotStatus::Farming
                } else {
                    status
                };
                if target == BotStatus::Offline {
                    // Never started: no transition to record, but the status is still set.
                    bot.insert("status".into(), BotStatus::Offline.as_str().into());
                    break;
                }
                t += rng.gen_range(1..5) * DAY;
                let at = t.min(now);
                let event = rules::transition(&mut bot, step, at).map_err(|e| anyhow::anyhow!("{}", e.message))?;
                if let Some(event) = event {
                    bot_store::log_event(conn, TENANT, &id, &event, at)?;
                }
                if step == target {
                    break;
                }
            }
            if status == BotStatus::Banned {
                let request = BanRequest {
                    ban_date: "01.11.2026".into(),
                    ban_reason: "Detected by anti-cheat wave".into(),
                    ban_mechanism: BanMechanism::GameSuspension,
                    unbanned_at: None,
                };
                let at = now - 3 * DAY;
                let event = rules::ban(&mut bot, request, at).map_err(|e| anyhow::anyhow!("{}", e.message))?;
                // As the ban route does: the lifecycle log and the archive snapshot.
                bot_store::log_event(conn, TENANT, &id, &event, at)?;
                // A banned bot stopped reporting when it was banned.
                bot.insert("last_seen".into(), at.into());
                bot.insert("id".into(), id.clone().into());
                bot_store::archive(conn, TENANT, &bot, &event.details, at)?;
            }
            put(conn, Collection::Bots, &id, bot, created, &mut count)?;
        }
    }

    for n in 1..=8 {
        let expires = match n {
            1 => now - 2 * DAY,
            2 | 3 => now + n * DAY,
            _ => now + rng.gen_range(20..200) * DAY,
        };
        let bots: Vec<String> = (0..3)
            .map(|k| format!("bot-demo-{:02}", (n * 3 + k) % 40 + 1))
            .collect();
        let body = doc(
            json!({ "key": format!("SIN-{:04X}-{:04X}", rng.gen::<u16>(), rng.gen::<u16>()), "type": "sin",
            "status": if expires < now { "expired" } else { "active" }, "bot_ids": bots, "expires_at": expires }),
        );
        put(
            conn,
            Collection::Licenses,
            &format!("lic-demo-{n:02}"),
            body,
            now - 60 * DAY,
            &mut count,
        )?;
    }
    for n in 1..=20 {
        let expires = if n <= 3 {
            now + n * DAY
        } else {
            now + rng.gen_range(10..90) * DAY
        };
        let score: i64 = rng.gen_range(0..100);
        let body = doc(
            json!({ "ip": format!("203.0.113.{}", 10 + n), "port": 8000 + n, "login": format!("user{n}"),
            "password": "••••", "provider": if n % 2 == 0 { "ProxyCo" } else { "NetRoute" }, "country": "Germany",
            "country_code": "DE", "type": if n % 4 == 0 { "socks5" } else { "http" }, "status": if score > 90 { "banned" } else { "active" },
            "bot_id": format!("bot-demo-{n:02}"), "expires_at": expires, "fraud_score": score, "last_checked": now - DAY }),
        );
        put(
            conn,
            Collection::Proxies,
            &format!("proxy-demo-{n:02}"),
            body,
            now - 30 * DAY,
            &mut count,
        )?;
    }
    for n in 1..=15 {
        let expires = match n {
            1 => now - DAY,
            2..=4 => now + (n + 1) * DAY,
            _ => now + rng.gen_range(15..60) * DAY,
        };
        let body = doc(
            json!({ "type": if n % 5 == 0 { "vpn" } else { "wow" }, "status": "active", "expires_at": expires,
            "bot_id": format!("bot-demo-{:02}", n + 10), "account_email": format!("acc{n}@example.com"),
            "auto_renew": n % 2 == 0, "project_id": if n % 3 == 0 { "wow_midnight" } else { "wow_tbc" } }),
        );
        put(
            conn,
            Collection::Subscriptions,
            &format!("sub-demo-{n:02}"),
            body,
            now - 40 * DAY,
            &mut count,
        )?;
    }

    let mut op = 0;
    for day in 0..90 {
        let date = now - (90 - day) * DAY;
        let mut add = |body: Value, count: &mut usize| {
            op += 1;
            put(
                conn,
                Collection::Finance,
                &format!("fin-demo-{op:04}"),
                doc(body),
                date,
                count,
            )
        };
        let price: f64 = 12.0 + f64::from(rng.gen_range(0..800)) / 100.0;
        let gold: i64 = rng.gen_range(8_000..20_000);
        add(
            json!({ "type": "income", "category": "sale", "amount": (gold as f64 / 1000.0 * price * 100.0).round() / 100.0,
            "currency": "USD", "date": date, "project_id": "wow_tbc", "gold_amount": gold, "gold_price_at_time": price,
            "description": "Gold sale" }),
            &mut count,
        )?;
        add(
            json!({ "type": "income", "category": "other", "amount": gold + rng.gen_range(0..2000), "currency": "gold",
            "date": date, "project_id": "wow_tbc", "bot_id": format!("bot-demo-{:02}", day % 40 + 1),
            "description": "Farmed gold" }),
            &mut count,
        )?;
        if day % 7 == 0 {
            add(
                json!({ "type": "expense", "category": "proxy", "amount": 24.0, "currency": "USD", "date": date,
                "description": "Weekly proxy bundle" }),
                &mut count,
            )?;
        }
        if day % 30 == 0 {
            add(
                json!({ "type": "expense", "category": "subscription_game", "amount": 14.99 * 15.0, "currency": "USD",
                "date": date, "description": "Game time for 15 accounts" }),
                &mut count,
            )?;
            add(
                json!({ "type": "expense", "category": "bot_license", "amount": 120.0, "currency": "USD", "date": date,
                "description": "Bot licenses" }),
                &mut count,
            )?;
        }
    }

    let notes = [
        ("Farming routes", "Best routes for Nagrand motes and Netherwing eggs."),
        (
            "Ban wave 1 Nov",
            "Four bots banned: all were on the same proxy provider.",
        ),
        (
            "Proxy providers",
            "NetRoute is stable; ProxyCo had two outages this month.",
        ),
        ("Leveling checklist", "Dungeon spam to 60, then Hellfire quests."),
        ("Ideas", "Try the new schedule profile with shorter sessions."),
    ];
    for (n, (title, content)) in notes.iter().enumerate() {
        let body = doc(
            json!({ "title": title, "content": content, "tags": ["demo"], "is_pinned": n == 0,
            "blocks": [{ "id": "b1", "type": "paragraph", "content": content, "created_at": now, "updated_at": now }] }),
        );
        put(
            conn,
            Collection::Notes,
            &format!("notes-demo-{n}"),
            body,
            now - (n as i64 + 1) * DAY,
            &mut count,
        )?;
    }
    for n in 0..8i64 {
        let day = time::OffsetDateTime::from_unix_timestamp((now + (n * 3 - 6) * DAY) / 1000)
            .map(|d| d.date())
            .unwrap_or(time::Date::MIN);
        let title = ["Renew proxies", "Check ban wave", "Pay licenses", "Review finance"][n as usize % 4];
        let body = doc(json!({ "title": title,
            "description": "", "date": day.to_string(), "linked_note_id": null }));
        put(
            conn,
            Collection::Calendar,
            &format!("calendar-demo-{n}"),
            body,
            now - DAY,
            &mut count,
        )?;
    }
    let tasks = [
        "Move bots to new proxies",
        "Update leveling profiles",
        "Buy game time",
        "Audit licenses",
        "Back up data",
        "Test Midnight rotation",
        "Rotate vault key",
        "Clean old notes",
        "Check fraud scores",
        "Plan next project",
    ];
    for (n, title) in tasks.iter().enumerate() {
        let status = ["todo", "in_progress", "done"][n % 3];
        let body =
            doc(json!({ "title": title, "description": "", "status": status, "order": n as i64, "due_date": null }));
        put(
            conn,
            Collection::Kanban,
            &format!("kanban-demo-{n}"),
            body,
            now - DAY,
            &mut count,
        )?;
    }
    Ok(Seeded::Created { documents: count })
}

/// How often the demo fleet reports: well inside the 5-minute window in which a bot counts
/// as online.
const HEARTBEAT_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

/// The demo bots' simulated heartbeat, only under `--demo`: at start and then every
/// [`HEARTBEAT_EVERY`], each demo bot that is at work (neither idle nor banned) reports as
/// seen now. The idle and banned ones keep the last-seen time they had.
pub async fn keep_alive(state: AppState) {
    let mut shutdown = state.shutdown.clone();
    let mut every = tokio::time::interval(HEARTBEAT_EVERY);
    loop {
        tokio::select! {
            _ = every.tick() => {}
            _ = shutdown.wait_for(|stopping| *stopping) => return,
        }
        let resting = [BotStatus::Offline.as_str(), BotStatus::Banned.as_str()];
        let beat = state
            .db
            .write(move |tx| bot_store::mark_seen_except(tx, TENANT, &resting, now_ms()).map_err(ApiError::from))
            .await;
        if let Err(e) = beat {
            tracing::warn!(error = %e.message, "demo heartbeat failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cell::{Cell, RefCell};

    use super::*;
    use crate::args;
    use crate::db::sql::on_each_backend;

    #[test]
    fn the_demo_seeds_alike_on_both_databases_and_once() {
        let first: RefCell<Option<Vec<(String, i64)>>> = RefCell::new(None);
        let runs = Cell::new(0);
        on_each_backend("demo_seed", |c| {
            runs.set(runs.get() + 1);
            let (vault, _) = Vault::generate(crate::vault::KeySource::Env);
            let Seeded::Created { documents } = seed(c, &vault).unwrap() else {
                panic!("{:?}: an empty database is seeded", c.dialect());
            };
            assert!(matches!(seed(c, &vault).unwrap(), Seeded::AlreadyThere));
            let count = |sql: &str| c.one(sql, args![TENANT], |r| r.get::<i64>(0)).unwrap();
            let mut rows = c
                .all(
                    "SELECT collection, COUNT(*) FROM documents WHERE tenant_id = ?1 GROUP BY collection ORDER BY collection",
                    args![TENANT],
                    |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)),
                )
                .unwrap();
            assert_eq!(rows.iter().map(|(_, n)| n).sum::<i64>(), documents as i64);
            rows.push((
                "lifecycle".into(),
                count("SELECT COUNT(*) FROM bot_lifecycle_log WHERE tenant_id = ?1"),
            ));
            rows.push((
                "archive".into(),
                count("SELECT COUNT(*) FROM bot_archive WHERE tenant_id = ?1"),
            ));
            rows.push(("users".into(), count("SELECT COUNT(*) FROM users WHERE tenant_id = ?1")));
            assert!(users::user_by_email(c, TENANT, EMAIL).unwrap().is_some());
            let mut first = first.borrow_mut();
            match first.as_ref() {
                None => *first = Some(rows),
                Some(sqlite) => assert_eq!(&rows, sqlite, "PostgreSQL holds what SQLite does"),
            }
        });
        if std::env::var_os("BOTMOX_TEST_PG").is_some() {
            assert_eq!(runs.get(), 2, "ran on PostgreSQL too");
        }
    }
}
