//! What is worth telling an operator, read off the domain changes themselves: a bot's
//! document before and after a write, an agent's heartbeat after silence, a proxy crossing
//! the fraud-score threshold. Detection is pure; [`super::store::enqueue`] stores the result
//! in the same transaction as the change.

use serde_json::{json, Value};

use crate::bots::rules::{self, BotStatus, BOT_STALE_MS};
use crate::documents::Document;

/// The kinds of notice. Each user-facing kind has a switch in settings
/// `notifications/events` (spec `api-domains.md` §9.1, plus `resource_expiring`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BotBanned,
    BotOffline,
    BotOnline,
    LevelUp,
    ProfessionMaxed,
    LowFraudScore,
    DailyReport,
    ResourceExpiring,
    /// The "send test message" button: no switch, never queued.
    Test,
}

impl Kind {
    /// Every kind with a switch, in the order the Settings page shows them.
    pub const SWITCHED: [Kind; 8] = [
        Kind::BotBanned,
        Kind::BotOffline,
        Kind::BotOnline,
        Kind::LevelUp,
        Kind::ProfessionMaxed,
        Kind::LowFraudScore,
        Kind::DailyReport,
        Kind::ResourceExpiring,
    ];

    /// The event name, which is also its switch's key in settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::BotBanned => "bot_banned",
            Kind::BotOffline => "bot_offline",
            Kind::BotOnline => "bot_online",
            Kind::LevelUp => "level_up",
            Kind::ProfessionMaxed => "profession_maxed",
            Kind::LowFraudScore => "low_fraud_score",
            Kind::DailyReport => "daily_report",
            Kind::ResourceExpiring => "resource_expiring",
            Kind::Test => "test",
        }
    }

    /// The switch's value when the operator never set it (the reference client's defaults).
    pub fn enabled_by_default(self) -> bool {
        !matches!(
            self,
            Kind::BotOnline | Kind::ProfessionMaxed | Kind::DailyReport | Kind::Test
        )
    }
}

/// One message to deliver: its kind, the text a person reads, and the facts for webhooks.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub kind: Kind,
    pub text: String,
    pub data: Value,
}

/// How a bot is named in messages: its name, else its character's, else its id.
pub fn bot_label(bot: &Document) -> String {
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty())
    }
    let id = text(bot.get("id")).unwrap_or("?");
    match text(bot.get("name")).or_else(|| text(bot.get("character").and_then(|c| c.get("name")))) {
        Some(name) if name != id => format!("{name} ({id})"),
        _ => id.to_owned(),
    }
}

/// Working and heard from recently: what the UI shows as not offline.
pub fn bot_is_online(bot: &Document, now: i64) -> bool {
    !matches!(rules::status_of(bot), BotStatus::Offline | BotStatus::Banned)
        && bot
            .get("last_seen")
            .and_then(Value::as_i64)
            .is_none_or(|seen| now - seen <= BOT_STALE_MS)
}

fn level(bot: &Document) -> Option<i64> {
    bot.get("character")?.get("level")?.as_i64()
}

/// Professions at their cap. The convention (the server stores professions opaquely):
/// `professions` is a list of `{name, skill, max_skill}` or a map of name → `{skill, max_skill}`.
fn maxed_professions(bot: &Document) -> Vec<(String, i64)> {
    let maxed = |name: &str, p: &Value| {
        let skill = p.get("skill")?.as_i64()?;
        let max = p.get("max_skill")?.as_i64()?;
        (max > 0 && skill >= max).then(|| (name.to_owned(), max))
    };
    match bot.get("professions") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|p| maxed(p.get("name").and_then(Value::as_str)?, p))
            .collect(),
        Some(Value::Object(map)) => map.iter().filter_map(|(name, p)| maxed(name, p)).collect(),
        _ => Vec::new(),
    }
}

/// What a write to a bot calls for, comparing the document before and after it at `now`.
pub fn bot_notices(before: &Document, after: &Document, now: i64) -> Vec<Notice> {
    let label = bot_label(after);
    let id = after.get("id").cloned().unwrap_or(Value::Null);
    let mut notices = Vec::new();
    let banned = |bot: &Document| rules::status_of(bot) == BotStatus::Banned;
    if banned(after) && !banned(before) {
        let reason = after
            .get("lifecycle")
            .and_then(|l| l.get("ban_details"))
            .and_then(|d| d.get("ban_reason"))
            .and_then(Value::as_str)
            .unwrap_or("not given");
        notices.push(Notice {
            kind: Kind::BotBanned,
            text: format!("🚫 Bot banned: {label}\nReason: {reason}"),
            data: json!({ "bot_id": id, "reason": reason }),
        });
    } else {
        match (bot_is_online(before, now), bot_is_online(after, now)) {
            (true, false) => notices.push(bot_offline(after)),
            (false, true) => notices.push(Notice {
                kind: Kind::BotOnline,
                text: format!("🟢 Bot online: {label}"),
                data: json!({ "bot_id": id, "status": rules::status_of(after).as_str() }),
            }),
            _ => {}
        }
    }
    if let (Some(was), Some(now_level)) = (level(before), level(after)) {
        if now_level > was {
            notices.push(Notice {
                kind: Kind::LevelUp,
                text: format!("⬆️ Level up: {label} reached level {now_level}"),
                data: json!({ "bot_id": id, "from": was, "level": now_level }),
            });
        }
    }
    let already = maxed_professions(before);
    for (name, max) in maxed_professions(after) {
        if !already.iter().any(|(n, _)| *n == name) {
            notices.push(Notice {
                kind: Kind::ProfessionMaxed,
                text: format!("🏅 Profession maxed: {label} reached {max} in {name}"),
                data: json!({ "bot_id": id, "profession": name, "skill": max }),
            });
        }
    }
    notices
}

/// A bot that stopped working or went silent.
pub fn bot_offline(bot: &Document) -> Notice {
    Notice {
        kind: Kind::BotOffline,
        text: format!("⚪ Bot offline: {}", bot_label(bot)),
        data: json!({ "bot_id": bot.get("id").cloned().unwrap_or(Value::Null) }),
    }
}

/// Agents share the bot online/offline switches: to an operator both mean "my fleet".
pub fn agent_presence(agent_id: &str, name: &str, online: bool) -> Notice {
    let (kind, text) = if online {
        (Kind::BotOnline, format!("🟢 Agent online: {name}"))
    } else {
        (Kind::BotOffline, format!("⚪ Agent offline: {name}"))
    };
    Notice {
        kind,
        text,
        data: json!({ "agent_id": agent_id, "online": online }),
    }
}

/// A proxy the periodic re-check flagged.
pub fn proxy_flagged(proxy: &Document, score: i64, threshold: i64) -> Notice {
    let text = |k: &str| {
        proxy
            .get(k)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
    };
    let id = text("id").unwrap_or_default();
    let address = match (text("ip"), text("port")) {
        (Some(ip), Some(port)) => format!("{ip}:{port}"),
        (Some(ip), None) => ip,
        _ => id.clone(),
    };
    Notice {
        kind: Kind::LowFraudScore,
        text: format!("⚠️ Proxy {address} flagged: fraud score {score} is above {threshold}. Marked as banned."),
        data: json!({ "proxy_id": id, "fraud_score": score, "threshold": threshold }),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn doc(v: Value) -> Document {
        v.as_object().unwrap().clone()
    }

    fn kinds(n: &[Notice]) -> Vec<Kind> {
        n.iter().map(|n| n.kind).collect()
    }

    #[test]
    fn a_ban_says_so_once_and_not_also_offline() {
        let before = doc(json!({ "id": "b1", "name": "Aly", "status": "farming" }));
        let after = doc(json!({ "id": "b1", "name": "Aly", "status": "banned",
            "lifecycle": { "ban_details": { "ban_reason": "botting" } } }));
        let n = bot_notices(&before, &after, 0);
        assert_eq!(kinds(&n), [Kind::BotBanned]);
        assert_eq!(n[0].text, "🚫 Bot banned: Aly (b1)\nReason: botting");
        assert!(bot_notices(&after, &after, 0).is_empty());
    }

    #[test]
    fn presence_follows_status_and_staleness() {
        let now = 10 * BOT_STALE_MS;
        let working = doc(json!({ "id": "b", "status": "leveling", "last_seen": now }));
        let stale = doc(json!({ "id": "b", "status": "leveling", "last_seen": now - BOT_STALE_MS - 1 }));
        let stopped = doc(json!({ "id": "b", "status": "offline", "last_seen": now }));
        assert_eq!(kinds(&bot_notices(&stale, &working, now)), [Kind::BotOnline]);
        assert_eq!(kinds(&bot_notices(&working, &stopped, now)), [Kind::BotOffline]);
        assert!(bot_notices(&stale, &stopped, now).is_empty());
        assert!(bot_is_online(&doc(json!({ "status": "farming" })), now));
    }

    #[test]
    fn levels_and_professions_announce_their_first_crossing() {
        let before = doc(json!({ "id": "b", "status": "offline", "character": { "level": 9 },
            "professions": [{ "name": "Mining", "skill": 374, "max_skill": 375 }] }));
        let after = doc(json!({ "id": "b", "status": "offline", "character": { "level": 10 },
            "professions": [{ "name": "Mining", "skill": 375, "max_skill": 375 }] }));
        let n = bot_notices(&before, &after, 0);
        assert_eq!(kinds(&n), [Kind::LevelUp, Kind::ProfessionMaxed]);
        assert_eq!(n[0].text, "⬆️ Level up: b reached level 10");
        assert_eq!(n[1].text, "🏅 Profession maxed: b reached 375 in Mining");
        assert!(bot_notices(&after, &after, 0).is_empty());
        let map = doc(json!({ "id": "b", "professions": { "Herbalism": { "skill": 75, "max_skill": 75 } } }));
        assert_eq!(maxed_professions(&map), [("Herbalism".to_owned(), 75)]);
    }
}
