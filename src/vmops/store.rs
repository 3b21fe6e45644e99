//! SQL for commands and their events. Every status change writes its event in the same
//! transaction.

use botmox_contract::commands::Command as AgentCommand;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::rules::Status;
use crate::auth::token::new_id;
use crate::clock::{iso_ms, now_ms};

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

fn row(r: &Row<'_>) -> rusqlite::Result<Command> {
    let json = |text: Option<String>| text.and_then(|t| serde_json::from_str(&t).ok());
    let expires_at_ms: Option<i64> = r.get("expires_at")?;
    let command_type: String = r.get("command_type")?;
    Ok(Command {
        id: r.get("id")?,
        tenant_id: r.get("tenant_id")?,
        agent_id: r.get("agent_id")?,
        read_only: is_read(&command_type),
        command_type,
        payload: json(r.get("payload")?).unwrap_or(Value::Null),
        status: r.get("status")?,
        result: json(r.get("result")?),
        error_message: r.get("error_message")?,
        progress: r.get("progress")?,
        progress_message: r.get("progress_message")?,
        retry_count: r.get("retry_count")?,
        idempotency_key: r.get("idempotency_key")?,
        created_by: r.get("created_by")?,
        queued_at: iso_ms(r.get("queued_at")?),
        started_at: r.get::<_, Option<i64>>("started_at")?.map(iso_ms),
        completed_at: r.get::<_, Option<i64>>("completed_at")?.map(iso_ms),
        expires_at: expires_at_ms.map(iso_ms),
        updated_at: iso_ms(r.get("updated_at")?),
        expires_at_ms,
    })
}

fn event(conn: &Connection, command: &Command) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO vm_command_events (tenant_id, agent_id, command_id, created_by, event_type, command, at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        command.tenant_id,
        command.agent_id,
        command.id,
        command.created_by,
        format!("command.{}", command.status),
        serde_json::to_string(command).expect("a command serialises"),
        now_ms()
    ])?;
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

pub fn insert(conn: &Connection, c: &NewCommand<'_>) -> rusqlite::Result<Command> {
    let (id, now) = (new_id(), now_ms());
    conn.execute(
        "INSERT INTO vm_commands (id, tenant_id, agent_id, command_type, payload, status, created_by, queued_at,
             expires_at, idempotency_key, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, 'queued', ?6, ?7, ?8, ?9, ?7)",
        params![
            id,
            c.tenant,
            c.agent_id,
            c.command_type,
            c.payload.to_string(),
            c.created_by,
            now,
            c.expires_at,
            c.idempotency_key
        ],
    )?;
    let command = get(conn, c.tenant, &id)?.expect("just inserted");
    event(conn, &command)?;
    Ok(command)
}

pub fn by_idempotency_key(
    conn: &Connection,
    tenant: &str,
    agent: &str,
    key: &str,
) -> rusqlite::Result<Option<Command>> {
    conn.query_row(
        "SELECT * FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2 AND idempotency_key = ?3",
        params![tenant, agent, key],
        row,
    )
    .optional()
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
    conn: &Connection,
    c: &NewCommand<'_>,
    creator: Option<&str>,
    now: i64,
) -> rusqlite::Result<Option<Command>> {
    if !AgentCommand::parse(c.command_type).is_ok_and(AgentCommand::is_shared_read) {
        return Ok(None);
    }
    // Insertion order (rowid), since a read and a write can share a millisecond. Beyond the 200
    // newest commands of the agent, any write is older than every candidate below.
    let last_write: i64 = conn
        .prepare_cached(
            "SELECT rowid, command_type FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2
             ORDER BY rowid DESC LIMIT 200",
        )?
        .query_map(params![c.tenant, c.agent_id], |r| {
            Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?
        .into_iter()
        .find(|(_, command_type)| !is_read(command_type))
        .map_or(0, |(rowid, _)| rowid);
    let candidates: Vec<Command> = conn
        .prepare_cached(
            "SELECT * FROM (SELECT rowid AS seq, * FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2
                 AND command_type = ?3 AND (?4 IS NULL OR created_by = ?4) ORDER BY queued_at DESC LIMIT 25)
             WHERE seq > ?6
               AND ((status IN ('queued', 'dispatched', 'running') AND queued_at >= ?5)
                    OR (status = 'succeeded' AND completed_at >= ?5))",
        )?
        .query_map(
            params![
                c.tenant,
                c.agent_id,
                c.command_type,
                creator,
                now - DEDUP_WINDOW_MS,
                last_write
            ],
            row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    // serde_json's maps compare by content, not key order: the canonical comparison.
    Ok(candidates.into_iter().find(|candidate| &candidate.payload == c.payload))
}

pub fn get(conn: &Connection, tenant: &str, id: &str) -> rusqlite::Result<Option<Command>> {
    conn.prepare_cached("SELECT * FROM vm_commands WHERE tenant_id = ?1 AND id = ?2")?
        .query_row(params![tenant, id], row)
        .optional()
}

/// Up to 100 commands, newest first, filtered by agent, status and creator when given.
pub fn list(
    conn: &Connection,
    tenant: &str,
    agent: Option<&str>,
    status: Option<&str>,
    created_by: Option<&str>,
) -> rusqlite::Result<Vec<Command>> {
    conn.prepare_cached(
        "SELECT * FROM vm_commands WHERE tenant_id = ?1 AND (?2 IS NULL OR agent_id = ?2)
           AND (?3 IS NULL OR status = ?3) AND (?4 IS NULL OR created_by = ?4)
         ORDER BY queued_at DESC, id LIMIT 100",
    )?
    .query_map(params![tenant, agent, status, created_by], row)?
    .collect()
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
pub fn set_status(conn: &Connection, command: &Command, to: Status, update: Update) -> rusqlite::Result<Command> {
    let now = now_ms();
    let started = matches!(to, Status::Running).then_some(now);
    let completed = to.is_terminal().then_some(now);
    let (set_result, result) = match update.result {
        Some(r) => (true, r.map(|v| v.to_string())),
        None => (false, None),
    };
    conn.execute(
        "UPDATE vm_commands SET status = ?3, started_at = COALESCE(?4, started_at), completed_at = COALESCE(?5, completed_at),
             result = CASE WHEN ?6 THEN ?7 ELSE result END, error_message = COALESCE(?8, error_message),
             progress = COALESCE(?9, progress), progress_message = COALESCE(?10, progress_message), updated_at = ?11
         WHERE tenant_id = ?1 AND id = ?2",
        params![
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
    let command = get(conn, &command.tenant_id, &command.id)?.expect("exists");
    event(conn, &command)?;
    Ok(command)
}

/// Claims the oldest queued command of an agent (failing expired ones on the way).
pub fn claim(conn: &Connection, tenant: &str, agent: &str) -> rusqlite::Result<Option<Command>> {
    let now = now_ms();
    let expired: Vec<Command> = conn
        .prepare_cached(
            "SELECT * FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2 AND status = 'queued'
               AND expires_at IS NOT NULL AND expires_at < ?3 ORDER BY queued_at LIMIT 50",
        )?
        .query_map(params![tenant, agent, now], row)?
        .collect::<rusqlite::Result<_>>()?;
    for command in &expired {
        let update = Update {
            error_message: Some("Command expired before agent pickup".into()),
            ..Update::default()
        };
        set_status(conn, command, Status::Failed, update)?;
    }
    let next: Option<Command> = conn
        .prepare_cached(
            "SELECT * FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2 AND status = 'queued'
             ORDER BY queued_at, id LIMIT 1",
        )?
        .query_row(params![tenant, agent], row)
        .optional()?;
    next.map(|command| set_status(conn, &command, Status::Dispatched, Update::default()))
        .transpose()
}

/// Cancels every unfinished command of an agent (it was revoked); how many.
pub fn cancel_all_of_agent(conn: &Connection, tenant: &str, agent: &str) -> rusqlite::Result<usize> {
    let open: Vec<Command> = conn
        .prepare_cached(
            "SELECT * FROM vm_commands WHERE tenant_id = ?1 AND agent_id = ?2 AND status IN ('queued', 'dispatched', 'running')",
        )?
        .query_map(params![tenant, agent], row)?
        .collect::<rusqlite::Result<_>>()?;
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
pub fn events_after(conn: &Connection, filter: &EventFilter, cursor: i64) -> rusqlite::Result<Vec<StoredEvent>> {
    conn.prepare_cached(
        "SELECT event_id, event_type, command FROM vm_command_events
         WHERE tenant_id = ?1 AND event_id > ?2 AND (?3 IS NULL OR agent_id = ?3) AND (?4 IS NULL OR command_id = ?4)
           AND (?5 IS NULL OR created_by = ?5)
         ORDER BY event_id LIMIT 200",
    )?
    .query_map(
        params![filter.tenant, cursor, filter.agent, filter.command, filter.created_by],
        |r| {
            Ok(StoredEvent {
                event_id: r.get(0)?,
                event_type: r.get(1)?,
                command: r.get(2)?,
            })
        },
    )?
    .collect()
}

/// The newest event id of a tenant (a stream without a cursor starts after it).
pub fn last_event_id(conn: &Connection, tenant: &str) -> rusqlite::Result<i64> {
    conn.query_row(
        "SELECT COALESCE(MAX(event_id), 0) FROM vm_command_events WHERE tenant_id = ?1",
        [tenant],
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

pub fn sweep(conn: &Connection, now: i64, limits: SweepLimits) -> rusqlite::Result<Swept> {
    let stale = |sql: &str, cutoff: i64| -> rusqlite::Result<Vec<Command>> {
        conn.prepare_cached(sql)?.query_map([cutoff], row)?.collect()
    };
    let running = stale(
        "SELECT * FROM vm_commands WHERE status = 'running' AND COALESCE(started_at, queued_at) < ?1",
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
        "SELECT * FROM vm_commands WHERE status = 'dispatched' AND queued_at < ?1",
        now - limits.dispatched_max_ms,
    )?;
    let (mut requeued, mut dead) = (Vec::new(), 0);
    for command in &dispatched {
        if command.retry_count < limits.max_requeues {
            // A dispatched command never started, so it has no start or completion time to clear;
            // the status itself moves, with its event, through `set_status` like every other.
            conn.execute(
                "UPDATE vm_commands SET queued_at = ?3, retry_count = retry_count + 1 WHERE tenant_id = ?1 AND id = ?2",
                params![command.tenant_id, command.id, now],
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

    fn queue_one(conn: &Connection) -> Command {
        conn.execute(
            "INSERT INTO agents (id, tenant_id, name, status, created_at, updated_at) VALUES ('a', 't', 'A', 'active', 0, 0)",
            [],
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

    #[test]
    fn a_recent_equal_read_only_command_stands_in_for_a_new_one() {
        let conn = crate::db::test_connection();
        queue_one(&conn);
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
        let first = insert(&conn, &new(&payload, "proxmox.vm-status")).unwrap();
        let now = now_ms();
        let twin = |p, t, who, at| read_only_twin(&conn, &new(p, t), who, at).unwrap().map(|c| c.id);
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
        insert(&conn, &new(&payload, "proxmox.start")).unwrap();
        assert_eq!(
            twin(&payload, "proxmox.vm-status", None, now),
            None,
            "read before a write"
        );
        let second = insert(&conn, &new(&payload, "proxmox.vm-status")).unwrap();
        assert_eq!(twin(&payload, "proxmox.vm-status", None, now), Some(second.id.clone()));
        set_status(&conn, &second, Status::Failed, Update::default()).unwrap();
        assert_eq!(
            twin(&payload, "proxmox.vm-status", None, now),
            None,
            "a failure is not reused"
        );
    }

    #[test]
    fn stale_claims_are_requeued_then_dead_lettered_and_long_runs_expire() {
        let conn = crate::db::test_connection();
        let limits = SweepLimits {
            running_max_ms: 1000,
            dispatched_max_ms: 100,
            max_requeues: 1,
        };
        let command = queue_one(&conn);
        let claimed = claim(&conn, "t", "a").unwrap().unwrap();
        assert_eq!(claimed.status, "dispatched");
        let later = now_ms() + 10_000;
        let requeued_for = vec![("t".to_owned(), "a".to_owned())];
        assert_eq!(
            sweep(&conn, later, limits).unwrap(),
            Swept {
                requeued: requeued_for,
                ..Swept::default()
            }
        );
        let requeued = get(&conn, "t", &command.id).unwrap().unwrap();
        assert_eq!((requeued.status.as_str(), requeued.retry_count), ("queued", 1));
        claim(&conn, "t", "a").unwrap().unwrap();
        assert_eq!(
            sweep(&conn, later + 10_000, limits).unwrap(),
            Swept {
                dead: 1,
                ..Swept::default()
            }
        );
        let dead = get(&conn, "t", &command.id).unwrap().unwrap();
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
            insert(&conn, &new).unwrap()
        };
        let claimed = claim(&conn, "t", "a").unwrap().unwrap();
        set_status(&conn, &claimed, Status::Running, Update::default()).unwrap();
        assert_eq!(
            sweep(&conn, now_ms() + 500, limits).unwrap(),
            Swept::default(),
            "still within its lease"
        );
        assert_eq!(
            sweep(&conn, now_ms() + 5000, limits).unwrap(),
            Swept {
                expired: 1,
                ..Swept::default()
            }
        );
        assert_eq!(get(&conn, "t", &second.id).unwrap().unwrap().status, "expired");
        let events: i64 = conn
            .query_row("SELECT COUNT(*) FROM vm_command_events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(events, 9, "every transition is an event");
    }
}
