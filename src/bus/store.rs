//! The bus's SQL, PostgreSQL only: a connection that sends, and one that listens.

/// The one channel every replica of an install notifies and listens on.
const CHANNEL: &str = "botmox";

/// Sends each payload as one notification on the bus's channel, in one statement.
pub fn notify(client: &mut postgres::Client, payloads: &[String]) -> Result<(), postgres::Error> {
    client.execute(
        "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload",
        &[&CHANNEL, &payloads],
    )?;
    Ok(())
}

/// Makes `client` receive the bus's notifications.
pub fn listen(client: &mut postgres::Client) -> Result<(), postgres::Error> {
    client.batch_execute(&format!("LISTEN {CHANNEL}"))
}
