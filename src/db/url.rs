//! The PostgreSQL URL of `database_url` and `migrate-data`: its check and its printable form
//! (pure rules).

/// `url` with its password (in the authority or a `password=` parameter) replaced by `***`,
/// for messages: a credential is never printed.
pub fn redact(url: &str) -> String {
    let (head, query) = url.split_once('?').map_or((url, None), |(h, q)| (h, Some(q)));
    let authority_start = head.find("://").map_or(0, |i| i + 3);
    let authority_end = head[authority_start..]
        .find('/')
        .map_or(head.len(), |i| authority_start + i);
    let authority = &head[authority_start..authority_end];
    let authority = match authority.rsplit_once('@') {
        Some((user_info, host)) => match user_info.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => authority.to_owned(),
        },
        None => authority.to_owned(),
    };
    let mut shown = format!("{}{authority}{}", &head[..authority_start], &head[authority_end..]);
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => pair.to_owned(),
            })
            .collect();
        shown = format!("{shown}?{}", pairs.join("&"));
    }
    shown
}

/// A PostgreSQL URL, or why not.
pub fn check_pg_url(url: &str) -> Result<(), String> {
    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
        return Err(format!(
            "{} is not a PostgreSQL URL: use postgres://user:password@host:port/database",
            redact(url)
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_show() {
        assert_eq!(
            redact("postgres://bm:s3cret@db.lan:5432/botmox?sslmode=disable&password=x"),
            "postgres://bm:***@db.lan:5432/botmox?sslmode=disable&password=***"
        );
        assert_eq!(redact("postgres://bm@%2Ftmp%2Fpg/db"), "postgres://bm@%2Ftmp%2Fpg/db");
        assert_eq!(redact("postgres://u:p:q@h"), "postgres://u:***@h");
        assert!(check_pg_url("mysql://u:hunter2@h/db").unwrap_err().contains("u:***@h"));
        assert!(check_pg_url("postgresql://h/db").is_ok());
    }
}
