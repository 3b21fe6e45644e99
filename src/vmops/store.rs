//! SQL for commands and their events. Every status change writes its event in the same
//! transaction.

use botmox_contract::commands::Command as AgentCommand;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::rules::Status;
use crate::args;
use crate::auth::token::new_id;
use crate::clock::{iso_ms, now_ms};
use crate::db::sql::{Dialect, Row};
use crate::db::{Conn, DbError};

/// A command as the API shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Command {
    pub id: String,
    pub tenant_id: String,
    pub agent_id: String,
    pub command_type: String,
    #[schema(value_type = Object)]
    pub payload: Value,
    pub status: String,
    #[schema(value_type = Option<Object>)]
    pub result: Option<Value>,
    pub error_message: Option<String>,
    pub progress: Option<i64>,
    pub progress_message: Option<String>,
    pub retry_count: i64,
    pub idempotency_key: Option<String>,
    pub created_by: Option<String>,
    pub queued_at: String,
    pub started_at: Option<String>,
    pub completed_at: Option<String>,
    pub expires_at: Option<String>,
    pub updated_at: String,
    /// Only reads ([`is_read`]): the web console hides these unless asked.
    pub read_only: bool,
    #[serde(skip)]
    pub expires_at_ms: Option<i64>,
}

impl Command {
    pub fn status(&self) -> Status {
        Status::parse(&self.status).unwrap_or(Status::Failed)
    }
}

const COLUMNS: &str = "id, tenant_id, agent_id, command_type, payload, status, result, error_message, progress,
    progress_message, retry_count, idempotency_key, created_by, queued_at, started_at, completed_at, expires_at,
    updated_at";

/// Reads a row selected with [`COLUMNS`].
fn row(r: &Row<'_>) -> Result<Command, DbError> {
    let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    let expires_at_ms: Option<i64> = r.get(16)?;
    let command_type: String = r.get(3)?;
    Ok(Command {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        agent_id: r.get(2)?,
        read_only: is_read(&command_type),
        command_type,
        payload: json(r.get(4)?).unwrap_or(Value::Null),
        status: r.get(5)?,
        result: json(r.get(6)?),
        error_message: r.get(7)?,
        progress: r.get(8)?,
        progress_message: r.get(9)?,
        retry_count: r.get(10)?,
        idempotency_key: r.get(11)?,
        created_by: r.get(12)?,
        queued_at: iso_ms(r.get(13)?),
        started_at: r.get::<Option<i64>>(14)?.map(iso_ms),
        completed_at: r.get::<Option<i64>>(15)?.map(iso_ms),
        expires_at: expires_at_ms.map(iso_ms),
        updated_at: iso_ms(r.get(17)?),
        expires_at_ms,
    })
}

fn event(conn: &dyn Conn, command: &Command) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO vm_command_events (tenant_id, agent_id, command_id, created_by, event_type, command, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        args![
            command.tenant_id,
            command.agent_id,
            command.id,
            command.created_by,
            format!("command.{}", command.status),
            serde_json::to_string(command).expect("a command serialises"),
            now_ms()
        ],
    )?;
    Ok(())
}

pub struct NewCommand<'a> {
    pub tenant: &'a str,
    pub agent_id: &'a str,
    pub command_type: &'a str,
    pub payload: &'a Value,
    pub created_by: &'a str,
    pub expires_at: i64,
    pub idempotency_key: Option<&'a str>,
}

pub fn insert(conn: &dyn Conn, c: &NewCommand<'_>) -> Result<Command, DbError> {
    let (id, now) = (new_id(), now_ms());
    conn.execute(
        "INSERT INTO vm_commands (id, tenant_id, agent_id, command_type, payload, status, created_by, queued_at,
             expires_at, idempotency_key, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?8, ?9, ?7)",
        args![
            id,
            c.tenant,
            c.agent_id,
            c.command_type,
            c.payload,
            c.created_by,
            now,
            c.expires_at,
            c.idempotency_key
        ],
    )?;
    let command = get(conn, c.tenant, &id)?.ok_or(DbError::NoRows)?;
    event(conn, &command)?;
    Ok(command)
}

pub fn by_idempotency_key(conn: &dyn Conn, tenant: &str, agent: &str, key: &str) -> Result<Option<Command>, DbError> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2 AND idempotency_key = ?3"),
        args![tenant, agent, key],
        row,
    )
}

/// Whether a stored command type only reads (the catalogue's [`AgentCommand::is_read`]; a
/// type it does not know, from an older queue, counts as a change).
pub fn is_read(command_type: &str) -> bool {
    AgentCommand::parse(command_type).is_ok_and(AgentCommand::is_read)
}

/// How recent a read-only command must be to stand in for a new one.
const DEDUP_WINDOW_MS: i64 = 10_000;

/// A recent read-only command equal to the one about to be queued: among the 25 newest of the
/// same tenant, agent and type (and creator, when given), one in flight that was queued, or
/// one that succeeded, within the last 10 s, with an equal payload, and queued after the
/// agent's latest write (a read from before a clone must not answer for one after it).
pub fn read_only_twin(
    conn: &dyn Conn,
    c: &NewCommand<'_>,
    creator: Option<&str>,
    now: i64,
) -> Result<Option<Command>, DbError> {
    if !AgentCommand::parse(c.command_type).is_ok_and(AgentCommand::is_shared_read) {
        return Ok(None);
    }
    // Insertion order (rowid), since a read and a write can share a millisecond. Beyond the 200
    // newest commands of the agent, any write is older than every candidate below.
    let last_write: i64 = conn
        .all(
            "SELECT rowid, command_type FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2
             ORDER BY rowid DESC LIMIT 200",
            args![c.tenant, c.agent_id],
            |r| Ok((r.get::<i64>(0)?, r.get::<String>(1)?)),
        )?
        .into_iter()
        .find(|(_, command_type)| !is_read(command_type))
        .map_or(0, |(rowid, _)| rowid);
    // The cast: PostgreSQL cannot type a parameter that is first met as `? IS NULL`.
    let candidates = conn.all(
        &format!(
            "SELECT {COLUMNS} FROM (SELECT rowid AS seq, {COLUMNS} FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2
                 AND command_type = ?3 AND (CAST(?4 AS TEXT) IS NULL OR created_by = ?4) ORDER BY queued_at DESC LIMIT 25) recent
             WHERE seq > ?6
               AND ((status IN ('queued', 'dispatched', 'running') AND queued_at >= ?5)
                    OR (status = 'succeeded' AND completed_at >= ?5))"
        ),
        args![c.tenant, c.agent_id, c.command_type, creator, now - DEDUP_WINDOW_MS, last_write],
        row,
    )?;
    // serde_json's maps compare by content, not key order: the canonical comparison.
    Ok(candidates.into_iter().find(|candidate| &candidate.payload == c.payload))
}

pub fn get(conn: &dyn Conn, tenant: &str, id: &str) -> Result<Option<Command>, DbError> {
    conn.opt(
        &format!("SELECT {COLUMNS} FROM vm_commands WHERE tenant_id = ?1 AND id = ?2"),
        args![tenant, id],
        row,
    )
}

/// Up to 100 commands, newest first, filtered by agent, status and creator when given.
pub fn list(
    conn: &dyn Conn,
    tenant: &str,
    agent: Option<&str>,
    status: Option<&str>,
    created_by: Option<&str>,
) -> Result<Vec<Command>, DbError> {
    conn.all(
        &format!(
            "SELECT {COLUMNS} FROM vm_commands WHERE tenant_id = ?1 AND (CAST(?2 AS TEXT) IS NULL OR agent_id = ?2)
               AND (CAST(?3 AS TEXT) IS NULL OR status = ?3) AND (CAST(?4 AS TEXT) IS NULL OR created_by = ?4)
             ORDER BY queued_at DESC, id LIMIT 100"
        ),
        args![tenant, agent, status, created_by],
        row,
    )
}

/// What an update writes besides the status.
#[derive(Default)]
pub struct Update {
    /// `Some(None)` clears the result.
    pub result: Option<Option<Value>>,
    pub error_message: Option<String>,
    pub progress: Option<i64>,
    pub progress_message: Option<String>,
}

/// Moves a command to `to` (the caller checked the transition) and records the event.
pub fn set_status(conn: &dyn Conn, command: &Command, to: Status, update: Update) -> Result<Command, DbError> {
    let now = now_ms();
    let started = matches!(to, Status::Running).then_some(now);
    let completed = to.is_terminal().then_some(now);
    let (set_result, result) = match update.result {
        Some(r) => (true, r),
        None => (false, None),
    };
    conn.execute(
        "UPDATE vm_commands SET status = ?3, started_at = COALESCE(?4, started_at), completed_at = COALESCE(?5, completed_at),
             result = CASE WHEN ?6 THEN ?7 ELSE result END, error_message = COALESCE(?8, error_message),
             progress = COALESCE(?9, progress), progress_message = COALESCE(?10, progress_message), updated_at = ?11
         WHERE tenant_id = ?1 AND id = ?2",
        args![
            command.tenant_id,
            command.id,
            to.as_str(),
            started,
            completed,
            set_result,
            result,
            update.error_message,
            update.progress,
            update.progress_message,
            now
        ],
    )?;
    let command = get(conn, &command.tenant_id, &command.id)?.ok_or(DbError::NoRows)?;
    event(conn, &command)?;
    Ok(command)
}

/// Claims the oldest queued command of an agent (failing expired ones on the way). Run it in
/// one transaction: on PostgreSQL the rows it reads stay locked until that commits, and a claim
/// on another connection skips them ([`locked`]), so two replicas never claim one command.
pub fn claim(conn: &dyn Conn, tenant: &str, agent: &str) -> Result<Option<Command>, DbError> {
    let now = now_ms();
    let expired = conn.all(
        &locked(
            conn,
            &format!(
                "SELECT {COLUMNS} FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2 AND status = 'queued'
                   AND expires_at IS NOT NULL AND expires_at < ?3 ORDER BY queued_at LIMIT 50"
            ),
        ),
        args![tenant, agent, now],
        row,
    )?;
    for command in &expired {
        let update = Update {
            error_message: Some("Command expired before agent pickup".into()),
            ..Update::default()
        };
        set_status(conn, command, Status::Failed, update)?;
    }
    let next = conn.opt(
        &locked(
            conn,
            &format!(
                "SELECT {COLUMNS} FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2 AND status = 'queued'
                 ORDER BY queued_at, id LIMIT 1"
            ),
        ),
        args![tenant, agent],
        row,
    )?;
    next.map(|command| set_status(conn, &command, Status::Dispatched, Update::default()))
        .transpose()
}

/// `select` as each database claims rows with it: SQLite's one writer already runs claims one
/// at a time; on PostgreSQL the rows are locked for the transaction, and rows another
/// transaction holds are skipped rather than waited for (and then claimed twice).
fn locked<'s>(conn: &dyn Conn, select: &'s str) -> std::borrow::Cow<'s, str> {
    match conn.dialect() {
        Dialect::Sqlite => select.into(),
        Dialect::Postgres => format!("{select} FOR UPDATE SKIP LOCKED").into(),
    }
}

/// Cancels every unfinished command of an agent (it was revoked); how many.
pub fn cancel_all_of_agent(conn: &dyn Conn, tenant: &str, agent: &str) -> Result<usize, DbError> {
    let open = conn.all(
        &format!(
            "SELECT {COLUMNS} FROM vm_commands
             WHERE tenant_id = ?1 AND agent_id = ?2 AND status IN ('queued', 'dispatched', 'running')"
        ),
        args![tenant, agent],
        row,
    )?;
    for command in &open {
        let update = Update {
            error_message: Some("The agent was revoked".into()),
            ..Update::default()
        };
        set_status(conn, command, Status::Cancelled, update)?;
    }
    Ok(open.len())
}

/// Which events a stream may see.
pub struct EventFilter {
    pub tenant: String,
    /// An agent caller, or an `agent_id` filter.
    pub agent: Option<String>,
    pub command: Option<String>,
    /// Plain users see only the commands they created.
    pub created_by: Option<String>,
}

pub struct StoredEvent {
    pub event_id: i64,
    pub event_type: String,
    pub command: String,
}

/// Up to 200 visible events after `cursor`, in order.
pub fn events_after(conn: &dyn Conn, filter: &EventFilter, cursor: i64) -> Result<Vec<StoredEvent>, DbError> {
    // The casts: PostgreSQL cannot type a parameter that is first met as `? IS NULL`.
    conn.all(
        "SELECT event_id, event_type, command FROM vm_command_events
         WHERE tenant_id = ?1 AND event_id > ?2 AND (CAST(?3 AS TEXT) IS NULL OR agent_id = ?3)
           AND (CAST(?4 AS TEXT) IS NULL OR command_id = ?4) AND (CAST(?5 AS TEXT) IS NULL OR created_by = ?5)
         ORDER BY event_id LIMIT 200",
        args![filter.tenant, cursor, filter.agent, filter.command, filter.created_by],
        |r| {
            Ok(StoredEvent {
                event_id: r.get(0)?,
                event_type: r.get(1)?,
                command: r.get(2)?,
            })
        },
    )
}

/// The newest event id of a tenant (a stream without a cursor starts after it).
pub fn last_event_id(conn: &dyn Conn, tenant: &str) -> Result<i64, DbError> {
    conn.one(
        "SELECT COALESCE(MAX(event_id), 0) FROM vm_command_events WHERE tenant_id = ?1",
        args![tenant],
        |r| r.get(0),
    )
}

/// Limits of the reliability sweep (§3.5).
#[derive(Debug, Clone, Copy)]
pub struct SweepLimits {
    /// A running command older than this (from `started_at`) expires.
    pub running_max_ms: i64,
    /// A claimed command not started within this (from `queued_at`) is requeued…
    pub dispatched_max_ms: i64,
    /// …at most this many times, then dead-lettered (failed).
    pub max_requeues: i64,
}

impl Default for SweepLimits {
    fn default() -> Self {
        Self {
            running_max_ms: 15 * 60_000,
            dispatched_max_ms: 120_000,
            max_requeues: 2,
        }
    }
}

/// What a sweep changed.
#[derive(Debug, Default, PartialEq)]
pub struct Swept {
    pub expired: usize,
    /// (tenant, agent) of each requeued command, whose parked claims must be woken.
    pub requeued: Vec<(String, String)>,
    pub dead: usize,
}

/// Expires, requeues and dead-letters stale commands, in one transaction. Every replica sweeps;
/// on PostgreSQL each stale row is taken by one of them ([`locked`]).
pub fn sweep(conn: &dyn Conn, now: i64, limits: SweepLimits) -> Result<Swept, DbError> {
    let stale = |filter: &str, cutoff: i64| {
        conn.all(
            &locked(conn, &format!("SELECT {COLUMNS} FROM vm_commands WHERE {filter}")),
            args![cutoff],
            row,
        )
    };
    let running = stale(
        "status = 'running' AND COALESCE(started_at, queued_at) < ?1",
        now - limits.running_max_ms,
    )?;
    for command in &running {
        let update = Update {
            error_message: Some("Command lease expired by reliability sweep".into()),
            ..Update::default()
        };
        set_status(conn, command, Status::Expired, update)?;
    }
    let dispatched = stale(
        "status = 'dispatched' AND queued_at < ?1",
        now - limits.dispatched_max_ms,
    )?;
    let (mut requeued, mut dead) = (Vec::new(), 0);
    for command in &dispatched {
        if command.retry_count < limits.max_requeues {
            // A dispatched command never started, so it has no start or completion time to clear;
            // the status itself moves, with its event, through `set_status` like every other.
            conn.execute(
                "UPDATE vm_commands SET queued_at = ?3, retry_count = retry_count + 1 WHERE tenant_id = ?1 AND id = ?2",
                args![command.tenant_id, command.id, now],
            )?;
            set_status(conn, command, Status::Queued, Update::default())?;
            requeued.push((command.tenant_id.clone(), command.agent_id.clone()));
        } else {
            let message = format!(
                "DEAD_LETTERED after {} requeues: not started within {} ms of being claimed",
                command.retry_count, limits.dispatched_max_ms
            );
            set_status(
                conn,
                command,
                Status::Failed,
                Update {
                    error_message: Some(message),
                    ..Update::default()
                },
            )?;
            dead += 1;
        }
    }
    Ok(Swept {
        expired: running.len(),
        requeued,
        dead,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    fn queue_one(conn: &dyn Conn) -> Command {
        conn.execute(
            "INSERT INTO agents (id, tenant_id, name, status, created_at, updated_at) VALUES ('a', 't', 'A', 'active', 0, 0)",
            args![],
        )
        .unwrap();
        let payload = Value::Object(Default::default());
        let new = NewCommand {
            tenant: "t",
            agent_id: "a",
            command_type: "proxmox.start",
            payload: &payload,
            created_by: "u",
            expires_at: i64::MAX,
            idempotency_key: None,
        };
        insert(conn, &new).unwrap()
    }

    /// Several connections claim from one queue at once, each claim in its own transaction as
    /// on a replica: every command goes out exactly once.
    #[test]
    fn concurrent_claims_on_postgres_take_each_command_once() {
        let Some(database) = botmox_testkit::pg::TestDatabase::create("vmops_concurrent_claims") else {
            return;
        };
        const COMMANDS: usize = 120;
        {
            let mut client = database.connect();
            crate::db::pg::migrate(&mut client).expect("the PostgreSQL migrations apply");
            let conn = crate::db::sql::Pg::new(&mut client);
            queue_one(&conn);
            for _ in 1..COMMANDS {
                let payload = Value::Object(Default::default());
                let new = NewCommand {
                    tenant: "t",
                    agent_id: "a",
                    command_type: "proxmox.start",
                    payload: &payload,
                    created_by: "u",
                    expires_at: i64::MAX,
                    idempotency_key: None,
                };
                insert(&conn, &new).unwrap();
            }
        }
        let start = std::sync::Barrier::new(4);
        let claimed: Vec<String> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..4)
                .map(|_| {
                    let (mut client, start) = (database.connect(), &start);
                    s.spawn(move || {
                        let conn = crate::db::sql::Pg::new(&mut client);
                        let mut mine = Vec::new();
                        start.wait();
                        loop {
                            conn.batch("BEGIN").unwrap();
                            let next = claim(&conn, "t", "a").unwrap();
                            conn.batch("COMMIT").unwrap();
                            match next {
                                Some(command) => mine.push(command.id),
                                None => return mine,
                            }
                        }
                    })
                })
                .collect();
            workers.into_iter().flat_map(|w| w.join().unwrap()).collect()
        });
        let distinct: std::collections::HashSet<_> = claimed.iter().collect();
        assert_eq!(
            (claimed.len(), distinct.len()),
            (COMMANDS, COMMANDS),
            "each command claimed exactly once"
        );
    }

    #[test]
    fn a_recent_equal_read_only_command_stands_in_for_a_new_one() {
        on_each_backend("vmops_twins", |conn| {
            queue_one(conn);
            let payload = serde_json::json!({ "vmid": 101, "node": "h1" });
            let reordered = serde_json::json!({ "node": "h1", "vmid": 101 });
            let other = serde_json::json!({ "vmid": 102, "node": "h1" });
            let new = |payload, command_type| NewCommand {
                tenant: "t",
                agent_id: "a",
                command_type,
                payload,
                created_by: "u",
                expires_at: i64::MAX,
                idempotency_key: None,
            };
            let first = insert(conn, &new(&payload, "proxmox.vm-status")).unwrap();
            let now = now_ms();
            let twin = |p, t, who, at| read_only_twin(conn, &new(p, t), who, at).unwrap().map(|c| c.id);
            assert_eq!(twin(&reordered, "proxmox.vm-status", None, now), Some(first.id.clone()));
            assert_eq!(
                twin(&reordered, "proxmox.vm-status", Some("u"), now),
                Some(first.id.clone())
            );
            assert_eq!(twin(&reordered, "proxmox.vm-status", Some("someone-else"), now), None);
            assert_eq!(twin(&other, "proxmox.vm-status", None, now), None, "another payload");
            assert_eq!(twin(&payload, "proxmox.start", None, now), None, "not read-only");
            assert_eq!(twin(&payload, "proxmox.vm-status", None, now + 11_000), None, "too old");
            // A write to the agent since: the earlier read may describe the VM before it.
            insert(conn, &new(&payload, "proxmox.start")).unwrap();
            assert_eq!(
                twin(&payload, "proxmox.vm-status", None, now),
                None,
                "read before a write"
            );
            let second = insert(conn, &new(&payload, "proxmox.vm-status")).unwrap();
            assert_eq!(twin(&payload, "proxmox.vm-status", None, now), Some(second.id.clone()));
            set_status(conn, &second, Status::Failed, Update::default()).unwrap();
            assert_eq!(
                twin(&payload, "proxmox.vm-status", None, now),
                None,
                "a failure is not reused"
            );
        });
    }

    #[test]
    fn stale_claims_are_requeued_then_dead_lettered_and_long_runs_expire() {
        on_each_backend("vmops_sweep", |conn| {
            let limits = SweepLimits {
                running_max_ms: 1000,
                dispatched_max_ms: 100,
                max_requeues: 1,
            };
            let command = queue_one(conn);
            let claimed = claim(conn, "t", "a").unwrap().unwrap();
            assert_eq!(claimed.status, "dispatched");
            let later = now_ms() + 10_000;
            let requeued_for = vec![("t".to_owned(), "a".to_owned())];
            assert_eq!(
                sweep(conn, later, limits).unwrap(),
                Swept {
                    requeued: requeued_for,
                    ..Swept::default()
                }
            );
            let requeued = get(conn, "t", &command.id).unwrap().unwrap();
            assert_eq!((requeued.status.as_str(), requeued.retry_count), ("queued", 1));
            claim(conn, "t", "a").unwrap().unwrap();
            assert_eq!(
                sweep(conn, later + 10_000, limits).unwrap(),
                Swept {
                    dead: 1,
                    ..Swept::default()
                }
            );
            let dead = get(conn, "t", &command.id).unwrap().unwrap();
            assert_eq!(dead.status, "failed");
            assert!(dead
                .error_message
                .unwrap()
                .starts_with("DEAD_LETTERED after 1 requeues"));

            let second = {
                let payload = Value::Object(Default::default());
                let new = NewCommand {
                    tenant: "t",
                    agent_id: "a",
                    command_type: "proxmox.stop",
                    payload: &payload,
                    created_by: "u",
                    expires_at: i64::MAX,
                    idempotency_key: None,
                };
                insert(conn, &new).unwrap()
            };
            let claimed = claim(conn, "t", "a").unwrap().unwrap();
            set_status(conn, &claimed, Status::Running, Update::default()).unwrap();
            assert_eq!(
                sweep(conn, now_ms() + 500, limits).unwrap(),
                Swept::default(),
                "still within its lease"
            );
            assert_eq!(
                sweep(conn, now_ms() + 5000, limits).unwrap(),
                Swept {
                    expired: 1,
                    ..Swept::default()
                }
            );
            assert_eq!(get(conn, "t", &second.id).unwrap().unwrap().status, "expired");
            let events: i64 = conn
                .one("SELECT COUNT(*) FROM vm_command_events", args![], |r| r.get(0))
                .unwrap();
            assert_eq!(events, 9, "every transition is an event");
        });
    }

    #[test]
    fn commands_and_their_events_read_alike_on_both_databases() {
        on_each_backend("vmops_commands", |c| {
            let first = queue_one(c);
            assert_eq!(
                (first.status.as_str(), first.retry_count, first.result.clone()),
                ("queued", 0, None)
            );
            c.execute(
                "INSERT INTO agents (id, tenant_id, name, status, created_at, updated_at) VALUES ('b', 't', 'B', 'active', 0, 0)",
                args![],
            )
            .unwrap();
            let payload = serde_json::json!({"vmid": 7, "opts": {"force": true}});
            let keyed = insert(
                c,
                &NewCommand {
                    tenant: "t",
                    agent_id: "b",
                    command_type: "proxmox.stop",
                    payload: &payload,
                    created_by: "v",
                    expires_at: i64::MAX,
                    idempotency_key: Some("k1"),
                },
            )
            .unwrap();
            assert_eq!(keyed.payload, payload);
            assert_eq!(
                by_idempotency_key(c, "t", "b", "k1").unwrap().map(|x| x.id),
                Some(keyed.id.clone())
            );
            assert!(by_idempotency_key(c, "t", "a", "k1").unwrap().is_none());
            assert!(get(c, "other", &keyed.id).unwrap().is_none());

            let ids = |agent, status, by| -> Vec<String> {
                list(c, "t", agent, status, by)
                    .unwrap()
                    .into_iter()
                    .map(|x| x.id)
                    .collect()
            };
            assert_eq!(ids(None, None, None).len(), 2);
            assert_eq!(ids(Some("b"), None, None), [keyed.id.as_str()]);
            assert_eq!(ids(None, Some("queued"), Some("u")), [first.id.as_str()]);
            assert!(ids(None, Some("running"), None).is_empty());

            // A result is written, kept by a later update, then cleared on request.
            let claimed = claim(c, "t", "b").unwrap().unwrap();
            let running = set_status(
                c,
                &claimed,
                Status::Running,
                Update {
                    result: Some(Some(serde_json::json!({"step": 1}))),
                    progress: Some(40),
                    progress_message: Some("half".into()),
                    ..Update::default()
                },
            )
            .unwrap();
            assert_eq!(
                (running.result.clone(), running.progress),
                (Some(serde_json::json!({"step": 1})), Some(40))
            );
            assert!(running.started_at.is_some() && running.completed_at.is_none());
            let kept = set_status(c, &running, Status::Running, Update::default()).unwrap();
            assert_eq!(
                (kept.result.clone(), kept.progress_message.as_deref()),
                (running.result.clone(), Some("half"))
            );
            let cleared = set_status(
                c,
                &kept,
                Status::Succeeded,
                Update {
                    result: Some(None),
                    ..Update::default()
                },
            )
            .unwrap();
            assert_eq!(
                (cleared.result.clone(), cleared.completed_at.is_some()),
                (None, true),
                "{:?}",
                c.dialect()
            );

            // Revoking agent a cancels its open command only.
            assert_eq!(cancel_all_of_agent(c, "t", "a").unwrap(), 1);
            assert_eq!(cancel_all_of_agent(c, "t", "a").unwrap(), 0);
            assert_eq!(get(c, "t", &first.id).unwrap().unwrap().status, "cancelled");

            let all = EventFilter {
                tenant: "t".into(),
                agent: None,
                command: None,
                created_by: None,
            };
            let events = events_after(c, &all, 0).unwrap();
            let types: Vec<_> = events.iter().map(|e| e.event_type.as_str()).collect();
            assert_eq!(
                types,
                [
                    "command.queued",
                    "command.queued",
                    "command.dispatched",
                    "command.running",
                    "command.running",
                    "command.succeeded",
                    "command.cancelled"
                ]
            );
            assert!(events.windows(2).all(|w| w[0].event_id < w[1].event_id));
            let last = last_event_id(c, "t").unwrap();
            assert_eq!(last, events.last().unwrap().event_id);
            assert_eq!(last_event_id(c, "other").unwrap(), 0);
            assert!(events_after(c, &all, last).unwrap().is_empty());
            let snapshot: Value = serde_json::from_str(&events[3].command).unwrap();
            assert_eq!(
                (snapshot["id"].as_str(), snapshot["progress"].as_i64()),
                (Some(keyed.id.as_str()), Some(40))
            );
            let narrow = |agent: Option<&str>, command: Option<&str>, by: Option<&str>| {
                let filter = EventFilter {
                    tenant: "t".into(),
                    agent: agent.map(str::to_owned),
                    command: command.map(str::to_owned),
                    created_by: by.map(str::to_owned),
                };
                events_after(c, &filter, 0).unwrap().len()
            };
            assert_eq!(
                (
                    narrow(Some("a"), None, None),
                    narrow(None, Some(&keyed.id), None),
                    narrow(None, None, Some("v"))
                ),
                (2, 5, 5)
            );
        });
    }
}
