//! A tenant's notification settings as the server uses them, read from its settings tree:
//! which events are switched on, which channels are ready, when the daily report goes out,
//! and the proxy policy. Secrets (bot token, webhook secret) stay in the vault until a
//! delivery needs them.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use super::rules::Kind;
use crate::db::{Conn, DbError};
use crate::error::ApiResult;
use crate::settings::tree::{self, SettingsPath, MASK};
use crate::vault::Vault;

pub const TELEGRAM: &[&str] = &["api_keys", "telegram"];
pub const TELEGRAM_TOKEN: &[&str] = &["api_keys", "telegram", "bot_token"];
pub const WEBHOOK: &[&str] = &["notifications", "webhook"];
pub const WEBHOOK_SECRET: &[&str] = &["notifications", "webhook", "secret"];
pub const EVENTS: &[&str] = &["notifications", "events"];
pub const DAILY_REPORT: &[&str] = &["notifications", "daily_report"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Telegram,
    Webhook,
}

impl Channel {
    pub const ALL: [Channel; 2] = [Channel::Telegram, Channel::Webhook];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Webhook => "webhook",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where one delivery goes, secrets included: lives only for the delivery (no `Debug`, so it
/// cannot end up in a log line).
pub enum Target {
    Telegram { token: String, chat_id: String },
    Webhook { url: String, secret: Option<String> },
}

pub struct Prefs {
    tree: Value,
}

impl Prefs {
    pub fn load(conn: &dyn Conn, tenant: &str) -> Result<Prefs, DbError> {
        Ok(Prefs::of(crate::settings::store::load(conn, tenant)?))
    }

    pub fn of(tree: Value) -> Prefs {
        Prefs { tree }
    }

    fn at(&self, segments: &[&str]) -> Option<&Value> {
        tree::get(&self.tree, &SettingsPath::of(segments))
    }

    fn text(&self, segments: &[&str]) -> Option<&str> {
        self.at(segments)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    fn flag(&self, segments: &[&str]) -> bool {
        self.at(segments).and_then(Value::as_bool).unwrap_or(false)
    }

    /// The event's switch, or its default when never set.
    pub fn wants(&self, kind: Kind) -> bool {
        self.at(&[EVENTS[0], EVENTS[1], kind.as_str()])
            .and_then(Value::as_bool)
            .unwrap_or(kind.enabled_by_default())
    }

    /// Has everything a delivery needs (switched on or not).
    pub fn is_complete(&self, channel: Channel) -> bool {
        match channel {
            Channel::Telegram => {
                self.text(&["api_keys", "telegram", "chat_id"]).is_some() && self.text(TELEGRAM_TOKEN) == Some(MASK)
            }
            Channel::Webhook => self.text(&["notifications", "webhook", "url"]).is_some(),
        }
    }

    pub fn is_on(&self, channel: Channel) -> bool {
        let switch = match channel {
            Channel::Telegram => ["api_keys", "telegram", "enabled"],
            Channel::Webhook => ["notifications", "webhook", "enabled"],
        };
        self.flag(&switch) && self.is_complete(channel)
    }

    /// The channels events go to now.
    pub fn channels(&self) -> Vec<Channel> {
        Channel::ALL.into_iter().filter(|c| self.is_on(*c)).collect()
    }

    /// The daily report's local time as minutes after midnight (default 09:00), and the local
    /// UTC offset in minutes (default 0).
    pub fn daily_report_at(&self) -> (i64, i64) {
        let time = self
            .text(&[DAILY_REPORT[0], DAILY_REPORT[1], "time"])
            .and_then(parse_hh_mm)
            .unwrap_or(9 * 60);
        let offset = self
            .at(&[DAILY_REPORT[0], DAILY_REPORT[1], "utc_offset_minutes"])
            .and_then(Value::as_i64)
            .unwrap_or(0);
        (time, offset)
    }

    /// Settings `proxy.fraud_score_threshold` (default 75): a proxy is flagged above it.
    pub fn fraud_threshold(&self) -> i64 {
        self.at(&["proxy", "fraud_score_threshold"])
            .and_then(Value::as_i64)
            .unwrap_or(75)
    }

    /// Settings `proxy.check_interval_hours` (default 0 = no periodic re-check).
    pub fn check_interval_hours(&self) -> i64 {
        self.at(&["proxy", "check_interval_hours"])
            .and_then(Value::as_i64)
            .unwrap_or(0)
    }

    /// Settings `alerts.warning_days` (1-365, default 7): the subscriptions' expiry threshold.
    pub fn warning_days(&self) -> i64 {
        self.at(&["alerts", "warning_days"])
            .and_then(Value::as_i64)
            .filter(|d| (1..=365).contains(d))
            .unwrap_or(7)
    }

    /// Where a delivery on `channel` goes, secrets read from the vault; `None` when the
    /// channel is incomplete.
    pub fn target(&self, conn: &dyn Conn, vault: &Vault, tenant: &str, channel: Channel) -> ApiResult<Option<Target>> {
        if !self.is_complete(channel) {
            return Ok(None);
        }
        Ok(match channel {
            Channel::Telegram => tree::secret(conn, vault, tenant, TELEGRAM_TOKEN)?.map(|token| Target::Telegram {
                token,
                chat_id: self
                    .text(&["api_keys", "telegram", "chat_id"])
                    .unwrap_or_default()
                    .to_owned(),
            }),
            Channel::Webhook => Some(Target::Webhook {
                url: self
                    .text(&["notifications", "webhook", "url"])
                    .unwrap_or_default()
                    .to_owned(),
                secret: tree::secret(conn, vault, tenant, WEBHOOK_SECRET)?.filter(|s| !s.is_empty()),
            }),
        })
    }
}

/// `HH:MM` (24 h) → minutes after midnight.
pub fn parse_hh_mm(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    let digits = b.len() == 5 && b[2] == b':' && [0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit());
    if !digits {
        return None;
    }
    let (h, m): (i64, i64) = (text[..2].parse().ok()?, text[3..].parse().ok()?);
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 60 + m)
}

/// The event switches (settings `notifications/events`); unset ones read as their defaults. The one
/// schema of that node, for `/notifications/settings` and `/settings/notifications/events` alike:
/// an unknown switch is refused, not stored.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct EventSwitches {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_banned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_offline: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_online: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub level_up: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profession_maxed: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low_fraud_score: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub daily_report: Option<bool>,
    /// Licenses, proxies and subscriptions entering "expiring soon" or "expired".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_expiring: Option<bool>,
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::settings::tree::set;

    #[test]
    fn delivery_targets_take_their_secrets_from_the_vault_on_both_databases() {
        crate::db::sql::on_each_backend("notification_targets", |c| {
            let (vault, _) = Vault::generate(crate::vault::KeySource::Env);
            let target = |channel| {
                let prefs = Prefs::load(c, "t").unwrap();
                match prefs.target(c, &vault, "t", channel).unwrap() {
                    Some(Target::Telegram { token, chat_id }) => Some(format!("telegram {token} {chat_id}")),
                    Some(Target::Webhook { url, secret }) => Some(format!("webhook {url} {secret:?}")),
                    None => None,
                }
            };
            assert_eq!(target(Channel::Telegram), None);
            tree::update(c, &vault, "t", |t| {
                set(
                    t,
                    &SettingsPath::of(TELEGRAM),
                    json!({ "bot_token": "123:abc", "chat_id": "42" }),
                );
                set(
                    t,
                    &SettingsPath::of(WEBHOOK),
                    json!({ "url": "https://hooks.example/x", "secret": "s3" }),
                );
            })
            .unwrap();
            assert_eq!(
                target(Channel::Telegram).as_deref(),
                Some("telegram 123:abc 42"),
                "{:?}",
                c.dialect()
            );
            assert_eq!(
                target(Channel::Webhook).as_deref(),
                Some("webhook https://hooks.example/x Some(\"s3\")")
            );
        });
    }
}
