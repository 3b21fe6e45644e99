//! Structured logs to stderr, as text or JSON lines.

use std::io::IsTerminal as _;

use tracing_subscriber::field::MakeExt as _;
use tracing_subscriber::fmt::format;
use tracing_subscriber::EnvFilter;

use crate::config::{Config, LogFormat};

pub fn init(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|e| {
        eprintln!(
            "warning: log filter {:?} is not valid ({e}); using \"info\"",
            config.log
        );
        EnvFilter::new("info")
    });
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::stderr().is_terminal());
    match config.log_format {
        LogFormat::Text => builder.fmt_fields(one_line_fields()).init(),
        // JSON strings already escape every control character.
        LogFormat::Json => builder.json().init(),
    }
}

/// Text-log fields with every control character escaped: many fields carry what a client
/// sent (browser log messages, e-mails, user agents, upstream errors), and a raw newline
/// in one would forge a log line of its own.
fn one_line_fields() -> impl for<'w> tracing_subscriber::fmt::FormatFields<'w> {
    format::debug_fn(|w, field, value| {
        let text = format!("{value:?}");
        if field.name() == "message" {
            write!(w, "{}", escape_controls(&text))
        } else {
            write!(w, "{}={}", field.name(), escape_controls(&text))
        }
    })
    .delimited(" ")
}

fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect::<String>()
        .into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_characters_are_escaped_and_plain_text_is_kept() {
        assert_eq!(
            super::escape_controls("a\nb\r\u{1b}[2J\u{85}c"),
            "a\\nb\\r\\u{1b}[2J\\u{85}c"
        );
        assert_eq!(super::escape_controls("plain é"), "plain é");
    }
}
