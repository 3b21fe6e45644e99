//! SQL for tenants, users, sessions and the setup token. No HTTP here: callers map `None`
//! and outcome enums to responses.

use super::token::new_id;
use crate::args;
use crate::clock::now_ms;
use crate::db::sql::Row;
use crate::db::{Conn, DbError, Dialect};
use botmox_contract::auth::{Role, UserInfo};

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub tenant_id: String,
    pub email: String,
    pub roles: Vec<Role>,
    pub password_hash: String,
}

impl UserRow {
    pub fn info(&self) -> UserInfo {
        UserInfo {
            id: self.id.clone(),
            email: self.email.clone(),
            roles: self.roles.clone(),
            tenant_id: self.tenant_id.clone(),
        }
    }
}

pub struct NewUser<'a> {
    pub tenant_id: &'a str,
    pub email: &'a str,
    pub password_hash: &'a str,
    pub roles: &'a [Role],
}

pub struct NewSession<'a> {
    pub token_hash: &'a [u8],
    pub user_id: &'a str,
    pub tenant_id: &'a str,
    pub expires_at: i64,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
}

/// A live session joined with its user: what a bearer token resolves to.
#[derive(Debug, Clone)]
pub struct SessionPrincipal {
    pub session_id: String,
    pub user_id: String,
    pub tenant_id: String,
    pub email: String,
    pub roles: Vec<Role>,
    /// The installation operator (`users.operator`), whatever the roles.
    pub operator: bool,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

#[derive(Debug, Clone)]
pub struct SessionRow {
    pub id: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub last_seen_at: i64,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

fn roles_to_sql(roles: &[Role]) -> String {
    serde_json::to_string(roles).expect("roles serialise")
}

pub(crate) fn roles_from_sql(text: &str) -> Vec<Role> {
    // Unknown role names (from a newer version) are dropped rather than granting anything.
    serde_json::from_str::<Vec<String>>(text)
        .unwrap_or_default()
        .iter()
        .filter_map(|r| Role::parse(r))
        .collect()
}

fn user_from_row(row: &Row<'_>) -> Result<UserRow, DbError> {
    Ok(UserRow {
        id: row.get("id")?,
        tenant_id: row.get("tenant_id")?,
        email: row.get("email")?,
        roles: roles_from_sql(&row.get::<String>("roles")?),
        password_hash: row.get("password_hash")?,
    })
}

pub fn user_count(conn: &dyn Conn) -> Result<i64, DbError> {
    conn.one("SELECT COUNT(*) FROM users", args![], |r| r.get(0))
}

pub fn ensure_tenant(conn: &dyn Conn, tenant_id: &str) -> Result<(), DbError> {
    conn.execute(
        "INSERT INTO tenants (id, name, created_at) VALUES (?1, ?1, ?2) ON CONFLICT (id) DO NOTHING",
        args![tenant_id, now_ms()],
    )?;
    Ok(())
}

/// Inserts a user; `None` when a user of the same tenant has the email (addresses are unique
/// per tenant, so another tenant's users never stand in the way).
pub fn insert_user(conn: &dyn Conn, user: &NewUser<'_>) -> Result<Option<UserRow>, DbError> {
    ensure_tenant(conn, user.tenant_id)?;
    let id = new_id();
    let now = now_ms();
    let inserted = conn.execute(
        "INSERT INTO users (id, tenant_id, email, password_hash, roles, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6) ON CONFLICT (tenant_id, email) DO NOTHING",
        args![
            id,
            user.tenant_id,
            user.email,
            user.password_hash,
            roles_to_sql(user.roles),
            now
        ],
    )?;
    Ok((inserted == 1).then(|| UserRow {
        id,
        tenant_id: user.tenant_id.to_owned(),
        email: user.email.to_owned(),
        roles: user.roles.to_vec(),
        password_hash: user.password_hash.to_owned(),
    }))
}

/// Every user with this address, in any tenant (a sign-in's candidates), oldest first.
pub fn users_by_email(conn: &dyn Conn, email: &str) -> Result<Vec<UserRow>, DbError> {
    conn.all(
        "SELECT * FROM users WHERE email = ?1 ORDER BY created_at, rowid",
        args![email],
        user_from_row,
    )
}

pub fn user_by_email(conn: &dyn Conn, tenant_id: &str, email: &str) -> Result<Option<UserRow>, DbError> {
    conn.opt(
        "SELECT * FROM users WHERE tenant_id = ?1 AND email = ?2",
        args![tenant_id, email],
        user_from_row,
    )
}

pub fn user_by_id(conn: &dyn Conn, tenant_id: &str, id: &str) -> Result<Option<UserRow>, DbError> {
    conn.opt(
        "SELECT * FROM users WHERE id = ?1 AND tenant_id = ?2",
        args![id, tenant_id],
        user_from_row,
    )
}

pub fn users_of_tenant(conn: &dyn Conn, tenant_id: &str) -> Result<Vec<UserRow>, DbError> {
    conn.all(
        "SELECT * FROM users WHERE tenant_id = ?1 ORDER BY email",
        args![tenant_id],
        user_from_row,
    )
}

/// Grants or revokes the installation operator flag.
pub fn set_operator(conn: &dyn Conn, user_id: &str, operator: bool) -> Result<(), DbError> {
    conn.execute(
        "UPDATE users SET operator = ?1, updated_at = ?2 WHERE id = ?3",
        args![operator, now_ms(), user_id],
    )?;
    Ok(())
}

pub fn set_password(conn: &dyn Conn, user_id: &str, password_hash: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE users SET password_hash = ?1, updated_at = ?2 WHERE id = ?3",
        args![password_hash, now_ms(), user_id],
    )?;
    Ok(())
}

/// Creates a session; expired sessions of the same user are cleared on the way.
pub fn insert_session(conn: &dyn Conn, s: &NewSession<'_>) -> Result<String, DbError> {
    let id = new_id();
    let now = now_ms();
    conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND expires_at <= ?2",
        args![s.user_id, now],
    )?;
    conn.execute(
        "INSERT INTO sessions (id, token_hash, user_id, tenant_id, created_at, expires_at, last_seen_at, ip, user_agent)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?5, ?7, ?8)",
        args![id, s.token_hash, s.user_id, s.tenant_id, now, s.expires_at, s.ip, s.user_agent],
    )?;
    Ok(id)
}

/// Resolves a token hash to its live (unexpired) session and user.
pub fn principal_by_token(conn: &dyn Conn, token_hash: &[u8]) -> Result<Option<SessionPrincipal>, DbError> {
    conn.opt(
        "SELECT s.id, s.user_id, s.tenant_id, u.email, u.roles, s.last_seen_at, s.expires_at, u.operator
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE s.token_hash = ?1 AND s.expires_at > ?2",
        args![token_hash, now_ms()],
        |r| {
            Ok(SessionPrincipal {
                session_id: r.get(0)?,
                user_id: r.get(1)?,
                tenant_id: r.get(2)?,
                email: r.get(3)?,
                roles: roles_from_sql(&r.get::<String>(4)?),
                last_seen_at: r.get(5)?,
                expires_at: r.get(6)?,
                operator: r.get(7)?,
            })
        },
    )
}

pub fn touch_session(conn: &dyn Conn, session_id: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE sessions SET last_seen_at = ?1 WHERE id = ?2",
        args![now_ms(), session_id],
    )?;
    Ok(())
}

pub fn sessions_of_user(conn: &dyn Conn, user_id: &str) -> Result<Vec<SessionRow>, DbError> {
    conn.all(
        "SELECT id, created_at, expires_at, last_seen_at, ip, user_agent FROM sessions
         WHERE user_id = ?1 AND expires_at > ?2 ORDER BY created_at DESC",
        args![user_id, now_ms()],
        |r| {
            Ok(SessionRow {
                id: r.get(0)?,
                created_at: r.get(1)?,
                expires_at: r.get(2)?,
                last_seen_at: r.get(3)?,
                ip: r.get(4)?,
                user_agent: r.get(5)?,
            })
        },
    )
}

/// Deletes one session of a user; false when there is no such session of theirs.
pub fn delete_session(conn: &dyn Conn, user_id: &str, session_id: &str) -> Result<bool, DbError> {
    Ok(conn.execute(
        "DELETE FROM sessions WHERE id = ?1 AND user_id = ?2",
        args![session_id, user_id],
    )? == 1)
}

/// Deletes every session of a user except `keep`.
pub fn delete_sessions_of_user(conn: &dyn Conn, user_id: &str, keep: Option<&str>) -> Result<u64, DbError> {
    let n = conn.execute(
        "DELETE FROM sessions WHERE user_id = ?1 AND id IS DISTINCT FROM ?2",
        args![user_id, keep],
    )?;
    Ok(n as u64)
}

/// Stores a freshly printed setup token. One server keeps only the token it printed last
/// (`replace`); replicas sharing a database keep each one's, since each printed its own.
pub fn add_setup_token(conn: &dyn Conn, token_hash: &[u8], replace: bool) -> Result<(), DbError> {
    if replace {
        conn.execute("DELETE FROM setup_tokens", args![])?;
    }
    conn.execute(
        "INSERT INTO setup_tokens (token_hash, created_at) VALUES (?1, ?2)",
        args![token_hash, now_ms()],
    )?;
    Ok(())
}

pub fn setup_token_exists(conn: &dyn Conn, token_hash: &[u8]) -> Result<bool, DbError> {
    conn.one(
        "SELECT EXISTS (SELECT 1 FROM setup_tokens WHERE token_hash = ?1)",
        args![token_hash],
        |r| r.get(0),
    )
}

pub enum SetupOutcome {
    Created(UserRow),
    AlreadyDone,
    InvalidToken,
}

/// Creates the first admin when no user exists and the token is the current one, and
/// consumes the token; all in the caller's transaction.
pub fn complete_setup(conn: &dyn Conn, token_hash: &[u8], user: &NewUser<'_>) -> Result<SetupOutcome, DbError> {
    // On PostgreSQL two replicas may take two tokens at once: locking every token first makes
    // the second wait, and then find them gone and the first admin there.
    let tokens: Vec<Vec<u8>> = conn.all(
        match conn.dialect() {
            Dialect::Sqlite => "SELECT token_hash FROM setup_tokens",
            Dialect::Postgres => "SELECT token_hash FROM setup_tokens FOR UPDATE",
        },
        args![],
        |r| r.get(0),
    )?;
    if user_count(conn)? > 0 {
        return Ok(SetupOutcome::AlreadyDone);
    }
    if !tokens.iter().any(|t| t.as_slice() == token_hash) {
        return Ok(SetupOutcome::InvalidToken);
    }
    conn.execute("DELETE FROM setup_tokens", args![])?;
    let created = insert_user(conn, user)?.expect("no user exists, so the email is free");
    // Whoever holds the setup token installed the server: they operate it.
    set_operator(conn, &created.id, true)?;
    Ok(SetupOutcome::Created(created))
}

/// Counts one more failed (or reserved) sign-in for `key`: a new window from `now` when the
/// last one started at or before `stale_before`. The count and its window's start (ms). One
/// statement, so attempts from several replicas at once all count.
pub fn count_attempt(conn: &dyn Conn, key: &str, now: i64, stale_before: i64) -> Result<(i64, i64), DbError> {
    conn.one(
        "INSERT INTO login_attempts (throttle_key, failures, started_at) VALUES (?1, 1, ?2)
         ON CONFLICT (throttle_key) DO UPDATE SET
             failures = CASE WHEN login_attempts.started_at <= ?3 THEN 1 ELSE login_attempts.failures + 1 END,
             started_at = CASE WHEN login_attempts.started_at <= ?3 THEN ?2 ELSE login_attempts.started_at END
         RETURNING failures, started_at",
        args![key, now, stale_before],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

/// Gives one attempt of `key` back (a sign-in that succeeded).
pub fn give_back_attempt(conn: &dyn Conn, key: &str) -> Result<(), DbError> {
    conn.execute(
        "UPDATE login_attempts SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END
         WHERE throttle_key = ?1",
        args![key],
    )?;
    Ok(())
}

/// Clears `key`'s count.
pub fn forget_attempts(conn: &dyn Conn, key: &str) -> Result<(), DbError> {
    conn.execute("DELETE FROM login_attempts WHERE throttle_key = ?1", args![key])?;
    Ok(())
}

/// Drops the windows that started at or before `stale_before`.
pub fn purge_attempts(conn: &dyn Conn, stale_before: i64) -> Result<usize, DbError> {
    conn.execute("DELETE FROM login_attempts WHERE started_at <= ?1", args![stale_before])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::sql::on_each_backend;

    fn user<'a>(email: &'a str, tenant: &'a str) -> NewUser<'a> {
        NewUser {
            tenant_id: tenant,
            email,
            password_hash: "h",
            roles: &[Role::Api],
        }
    }

    #[test]
    fn setup_consumes_its_token_and_happens_once() {
        on_each_backend("auth_setup", |conn| {
            add_setup_token(conn, b"first", true).unwrap();
            add_setup_token(conn, b"second", true).unwrap();
            assert!(matches!(
                complete_setup(conn, b"first", &user("a@x", "t")).unwrap(),
                SetupOutcome::InvalidToken
            ));
            assert!(matches!(
                complete_setup(conn, b"second", &user("a@x", "t")).unwrap(),
                SetupOutcome::Created(_)
            ));
            assert!(matches!(
                complete_setup(conn, b"second", &user("b@x", "t")).unwrap(),
                SetupOutcome::AlreadyDone
            ));
            assert!(!setup_token_exists(conn, b"second").unwrap());
        });
    }

    #[test]
    fn the_tokens_that_replicas_printed_each_open_the_setup_once() {
        on_each_backend("auth_setup_replicas", |conn| {
            add_setup_token(conn, b"from-a", false).unwrap();
            add_setup_token(conn, b"from-b", false).unwrap();
            assert!(matches!(
                complete_setup(conn, b"from-b", &user("a@x", "t")).unwrap(),
                SetupOutcome::Created(_)
            ));
            assert!(matches!(
                complete_setup(conn, b"from-a", &user("b@x", "t")).unwrap(),
                SetupOutcome::AlreadyDone
            ));
        });
    }

    #[test]
    fn two_replicas_completing_the_setup_at_once_make_one_admin() {
        let Some(database) = botmox_testkit::pg::TestDatabase::create("auth_setup_race") else {
            return;
        };
        let mut first = database.connect();
        crate::db::pg::migrate(&mut first).expect("the PostgreSQL migrations apply");
        let first = crate::db::sql::Pg::new(&mut first);
        add_setup_token(&first, b"from-a", false).unwrap();
        add_setup_token(&first, b"from-b", false).unwrap();
        first.batch("BEGIN").unwrap();
        assert!(matches!(
            complete_setup(&first, b"from-a", &user("a@x", "t")).unwrap(),
            SetupOutcome::Created(_)
        ));
        let (started_tx, started) = std::sync::mpsc::channel();
        let (outcome_tx, outcome) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            let mut client = database.connect();
            s.spawn(move || {
                let second = crate::db::sql::Pg::new(&mut client);
                second.batch("BEGIN").unwrap();
                started_tx.send(()).unwrap();
                let done = complete_setup(&second, b"from-b", &user("b@x", "t")).unwrap();
                second.batch("COMMIT").unwrap();
                outcome_tx.send(matches!(done, SetupOutcome::AlreadyDone)).unwrap();
            });
            started.recv().unwrap();
            // The second must wait for the first's transaction. (An outcome arriving here is
            // the bug; waiting a moment for it cannot make this pass wrongly.)
            assert!(
                outcome.recv_timeout(std::time::Duration::from_millis(300)).is_err(),
                "the second replica completed the setup beside the first"
            );
            first.batch("COMMIT").unwrap();
            assert!(outcome.recv().unwrap(), "the second replica made a second admin");
        });
        assert_eq!(user_count(&first).unwrap(), 1);
    }

    #[test]
    fn emails_are_unique_within_a_tenant_only() {
        on_each_backend("auth_emails", |conn| {
            let a = insert_user(conn, &user("a@x", "t1")).unwrap().unwrap();
            assert!(insert_user(conn, &user("a@x", "t1")).unwrap().is_none());
            let b = insert_user(conn, &user("a@x", "t2")).unwrap().unwrap();
            assert!(user_by_id(conn, "t1", &a.id).unwrap().is_some());
            assert!(user_by_id(conn, "t2", &a.id).unwrap().is_none());
            let ids: Vec<String> = users_by_email(conn, "a@x").unwrap().into_iter().map(|u| u.id).collect();
            assert_eq!(ids, [a.id, b.id.clone()]);
            assert_eq!(user_by_email(conn, "t2", "a@x").unwrap().unwrap().id, b.id);
            assert!(user_by_email(conn, "t3", "a@x").unwrap().is_none());
        });
    }

    #[test]
    fn expired_sessions_do_not_resolve() {
        on_each_backend("auth_expired_sessions_do_not_resolv", |conn| {
            let u = insert_user(conn, &user("a@x", "t")).unwrap().unwrap();
            let new = |hash: &'static [u8], expires_at| NewSession {
                token_hash: hash,
                user_id: &u.id,
                tenant_id: "t",
                expires_at,
                ip: None,
                user_agent: None,
            };
            insert_session(conn, &new(b"live", now_ms() + 60_000)).unwrap();
            insert_session(conn, &new(b"dead", now_ms() - 1)).unwrap();
            assert!(principal_by_token(conn, b"live").unwrap().is_some());
            assert!(principal_by_token(conn, b"dead").unwrap().is_none());
            assert_eq!(sessions_of_user(conn, &u.id).unwrap().len(), 1);

            // Roles, the operator flag and a new password show through the session.
            set_operator(conn, &u.id, true).unwrap();
            set_password(conn, &u.id, "h2").unwrap();
            let me = principal_by_token(conn, b"live").unwrap().unwrap();
            assert_eq!(
                (me.operator, me.roles.as_slice()),
                (true, [Role::Api].as_slice()),
                "{:?}",
                conn.dialect()
            );
            assert_eq!(users_of_tenant(conn, "t").unwrap()[0].password_hash, "h2");
            touch_session(conn, &me.session_id).unwrap();

            // Sign out everywhere but here, then here.
            let other = insert_session(conn, &new(b"other", now_ms() + 60_000)).unwrap();
            assert_eq!(delete_sessions_of_user(conn, &u.id, Some(&me.session_id)).unwrap(), 1);
            assert!(principal_by_token(conn, b"other").unwrap().is_none(), "{other} is gone");
            assert!(!delete_session(conn, "someone-else", &me.session_id).unwrap());
            assert!(delete_session(conn, &u.id, &me.session_id).unwrap());
            assert_eq!(delete_sessions_of_user(conn, &u.id, None).unwrap(), 0);
        });
    }

    #[test]
    fn sign_in_attempts_count_in_windows_on_both_databases() {
        on_each_backend("auth_login_attempts", |conn| {
            assert_eq!(count_attempt(conn, "ip:a", 1000, 0).unwrap(), (1, 1000));
            assert_eq!(count_attempt(conn, "ip:a", 1500, 500).unwrap(), (2, 1000));
            give_back_attempt(conn, "ip:a").unwrap();
            assert_eq!(count_attempt(conn, "ip:a", 1600, 600).unwrap(), (2, 1000));
            // The window is over: a new one starts with this attempt.
            assert_eq!(count_attempt(conn, "ip:a", 9000, 1000).unwrap(), (1, 9000));
            count_attempt(conn, "account:x", 9000, 1000).unwrap();
            forget_attempts(conn, "account:x").unwrap();
            assert_eq!(count_attempt(conn, "account:x", 9100, 1100).unwrap(), (1, 9100));
            assert_eq!(purge_attempts(conn, 9000).unwrap(), 1, "ip:a's window started at 9000");
        });
    }
}
