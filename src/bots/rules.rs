//! The lifecycle rules: stages, transitions, ban and unban, as pure functions on a bot
//! document. Routes and PATCH both go through them, so no write can bypass the rules.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use time::macros::format_description;
use time::{Date, PrimitiveDateTime, Time};
use utoipa::ToSchema;

use crate::documents::Document;

/// A bot counts as offline when its `last_seen` is older than this (spec `web-ui.md` §1.7): the
/// one window of the notifications, the list filters (bound as `:stale_ms`) and the UI (handed
/// over as `bot_offline_after_ms` of `GET /health`).
pub const BOT_STALE_MS: i64 = 5 * 60_000;
use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum BotStatus {
    Offline,
    Prepare,
    Leveling,
    Profession,
    Farming,
    Banned,
}

impl BotStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            BotStatus::Offline => "offline",
            BotStatus::Prepare => "prepare",
            BotStatus::Leveling => "leveling",
            BotStatus::Profession => "profession",
            BotStatus::Farming => "farming",
            BotStatus::Banned => "banned",
        }
    }

    fn parse(s: &str) -> Option<BotStatus> {
        serde_json::from_value(Value::String(s.to_owned())).ok()
    }

    /// The working stage of a status; `offline` and `banned` have none.
    fn stage(self) -> Option<&'static str> {
        match self {
            BotStatus::Offline | BotStatus::Banned => None,
            other => Some(other.as_str()),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BanMechanism {
    BattlenetAccountClosure,
    BattlenetAccountSuspension,
    GameSuspension,
    HardwareBan,
    IpBan,
    Other,
}

/// The body of `POST /bots/{id}/lifecycle/ban`; unknown keys are dropped.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct BanRequest {
    /// `DD.MM.YYYY`.
    pub ban_date: String,
    /// 1-1000 characters.
    pub ban_reason: String,
    pub ban_mechanism: BanMechanism,
    #[serde(default)]
    pub unbanned_at: Option<u64>,
}

/// The body of `POST /bots/{id}/lifecycle/transition`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct TransitionRequest {
    pub status: BotStatus,
}

/// What a lifecycle change did, for the bot's lifecycle log.
#[derive(Debug)]
pub struct Event {
    pub kind: &'static str,
    pub message: String,
    pub details: Value,
}

/// The stored status; missing or unknown counts as `offline`.
pub fn status_of(bot: &Document) -> BotStatus {
    bot.get("status")
        .and_then(Value::as_str)
        .and_then(BotStatus::parse)
        .unwrap_or(BotStatus::Offline)
}

fn lifecycle_mut(bot: &mut Document) -> &mut Map<String, Value> {
    let entry = bot.entry("lifecycle").or_insert(Value::Null);
    if !entry.is_object() {
        *entry = json!({ "current_stage": "prepare", "stage_transitions": [] });
    }
    let lifecycle = entry.as_object_mut().expect("made an object above");
    if !lifecycle.get("stage_transitions").is_some_and(Value::is_array) {
        lifecycle.insert("stage_transitions".into(), json!([]));
    }
    lifecycle
}

fn push_transition(lifecycle: &mut Map<String, Value>, from: &str, to: &str, now: i64) {
    if let Some(Value::Array(list)) = lifecycle.get_mut("stage_transitions") {
        list.push(json!({ "from": from, "to": to, "timestamp": now }));
    }
}

fn rule(code: ErrorCode, message: &'static str) -> ApiError {
    ApiError::new(code).with_message(message)
}

/// Moves a non-banned bot to `to`. Moving to the current status changes nothing.
pub fn transition(bot: &mut Document, to: BotStatus, now: i64) -> Result<Option<Event>, ApiError> {
    if to == BotStatus::Banned {
        return Err(rule(
            ErrorCode::BotsTransitionValidationFailed,
            "Use /lifecycle/ban endpoint for ban transitions",
        ));
    }
    let from = status_of(bot);
    if from == BotStatus::Banned {
        return Err(rule(
            ErrorCode::BotsTransitionValidationFailed,
            "The bot is banned: unban it with /lifecycle/unban first",
        ));
    }
    if from == to {
        return Ok(None);
    }
    let stage = to.stage().unwrap_or("prepare");
    bot.insert("status".into(), to.as_str().into());
    let lifecycle = lifecycle_mut(bot);
    lifecycle.insert("current_stage".into(), stage.into());
    lifecycle.insert("previous_status".into(), from.as_str().into());
    push_transition(lifecycle, from.stage().unwrap_or("create"), stage, now);
    Ok(Some(Event {
        kind: "status_change",
        message: format!("{} → {}", from.as_str(), to.as_str()),
        details: json!({ "from": from.as_str(), "to": to.as_str() }),
    }))
}

/// Bans a bot, recording its details; a bot already banned keeps its pre-ban status.
pub fn ban(bot: &mut Document, request: BanRequest, now: i64) -> Result<Event, ApiError> {
    let reason = request.ban_reason.trim();
    if reason.is_empty() || reason.chars().count() > 1000 {
        return Err(rule(
            ErrorCode::BotsInvalidBanBody,
            "ban_reason must be 1-1000 characters",
        ));
    }
    let date = parse_ban_date(&request.ban_date).ok_or_else(|| {
        rule(
            ErrorCode::BotsInvalidBanBody,
            "ban_date must be a date written DD.MM.YYYY",
        )
    })?;
    let from = status_of(bot);
    let mut details = json!({
        "ban_date": request.ban_date.trim(),
        "ban_reason": reason,
        "ban_mechanism": request.ban_mechanism,
        "ban_timestamp": date,
    });
    if let Some(at) = request.unbanned_at {
        details["unbanned_at"] = at.into();
    }
    bot.insert("status".into(), BotStatus::Banned.as_str().into());
    let lifecycle = lifecycle_mut(bot);
    lifecycle.insert("current_stage".into(), "banned".into());
    if from != BotStatus::Banned {
        lifecycle.insert("previous_status".into(), from.as_str().into());
        if let Some(stage) = from.stage() {
            // A self-transition marks where in its stage the bot was banned.
            push_transition(lifecycle, stage, stage, now);
        }
    }
    lifecycle.insert("ban_details".into(), details.clone());
    Ok(Event {
        kind: "ban",
        message: format!("banned: {reason}"),
        details,
    })
}

/// Restores the status the bot had before its ban and stamps `unbanned_at`.
pub fn unban(bot: &mut Document, now: i64) -> Result<Event, ApiError> {
    if status_of(bot) != BotStatus::Banned {
        return Err(rule(ErrorCode::BotsUnbanValidationFailed, "Bot is not banned"));
    }
    let lifecycle = lifecycle_mut(bot);
    let restored = lifecycle
        .get("previous_status")
        .and_then(Value::as_str)
        .and_then(BotStatus::parse)
        .filter(|s| *s != BotStatus::Banned)
        .unwrap_or(BotStatus::Offline);
    lifecycle.insert("current_stage".into(), restored.stage().unwrap_or("prepare").into());
    if let Some(Value::Object(details)) = lifecycle.get_mut("ban_details") {
        details.insert("unbanned_at".into(), now.into());
    }
    bot.insert("status".into(), restored.as_str().into());
    Ok(Event {
        kind: "unban",
        message: format!("unbanned: back to {}", restored.as_str()),
        details: json!({ "restored_status": restored.as_str() }),
    })
}

pub fn is_banned(bot: &Document) -> bool {
    let stage_banned = bot
        .get("lifecycle")
        .and_then(|l| l.get("current_stage"))
        .and_then(Value::as_str)
        .is_some_and(|s| s.eq_ignore_ascii_case("banned"));
    status_of(bot) == BotStatus::Banned || stage_banned
}

/// `DD.MM.YYYY` as midnight UTC, in ms.
fn parse_ban_date(text: &str) -> Option<i64> {
    let date = Date::parse(text.trim(), format_description!("[day].[month].[year]")).ok()?;
    let at = PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc();
    Some((at.unix_timestamp_nanos() / 1_000_000) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bot(status: Option<&str>) -> Document {
        let mut doc = Document::new();
        if let Some(s) = status {
            doc.insert("status".into(), s.into());
        }
        doc
    }

    fn ban_request() -> BanRequest {
        BanRequest {
            ban_date: "24.11.2026".into(),
            ban_reason: " detected ".into(),
            ban_mechanism: BanMechanism::GameSuspension,
            unbanned_at: None,
        }
    }

    /// (from, to, recorded from-stage, recorded to-stage)
    const TRANSITIONS: &[(Option<&str>, BotStatus, &str, &str)] = &[
        (None, BotStatus::Leveling, "create", "leveling"),
        (Some("offline"), BotStatus::Prepare, "create", "prepare"),
        (Some("prepare"), BotStatus::Leveling, "prepare", "leveling"),
        (Some("leveling"), BotStatus::Profession, "leveling", "profession"),
        (Some("profession"), BotStatus::Farming, "profession", "farming"),
        (Some("farming"), BotStatus::Leveling, "farming", "leveling"),
        (Some("farming"), BotStatus::Offline, "farming", "prepare"),
    ];

    #[test]
    fn transitions_record_stages_and_the_previous_status() {
        for &(from, to, rec_from, rec_to) in TRANSITIONS {
            let mut doc = bot(from);
            transition(&mut doc, to, 7).unwrap().expect("a change");
            assert_eq!(doc["status"], to.as_str());
            let lifecycle = &doc["lifecycle"];
            assert_eq!(lifecycle["current_stage"], rec_to, "{from:?} -> {to:?}");
            assert_eq!(lifecycle["previous_status"], from.unwrap_or("offline"));
            assert_eq!(
                lifecycle["stage_transitions"],
                json!([{ "from": rec_from, "to": rec_to, "timestamp": 7 }])
            );
        }
    }

    #[test]
    fn a_transition_to_the_same_status_or_to_banned_changes_nothing() {
        let mut doc = bot(Some("farming"));
        assert!(transition(&mut doc, BotStatus::Farming, 1).unwrap().is_none());
        assert!(doc.get("lifecycle").is_none());
        let err = transition(&mut doc, BotStatus::Banned, 1).unwrap_err();
        assert_eq!(err.code, ErrorCode::BotsTransitionValidationFailed);
    }

    #[test]
    fn ban_then_unban_restores_the_previous_status() {
        let mut doc = bot(Some("farming"));
        ban(&mut doc, ban_request(), 5).unwrap();
        assert!(is_banned(&doc));
        assert_eq!(doc["lifecycle"]["previous_status"], "farming");
        assert_eq!(
            doc["lifecycle"]["stage_transitions"],
            json!([{ "from": "farming", "to": "farming", "timestamp": 5 }])
        );
        assert_eq!(doc["lifecycle"]["ban_details"]["ban_reason"], "detected");
        assert_eq!(doc["lifecycle"]["ban_details"]["ban_timestamp"], 1_795_478_400_000i64);
        // Banning twice keeps the status to restore, and a banned bot cannot transition.
        ban(&mut doc, ban_request(), 6).unwrap();
        assert_eq!(doc["lifecycle"]["previous_status"], "farming");
        assert!(transition(&mut doc, BotStatus::Leveling, 7).is_err());

        unban(&mut doc, 9).unwrap();
        assert_eq!(doc["status"], "farming");
        assert_eq!(doc["lifecycle"]["current_stage"], "farming");
        assert_eq!(doc["lifecycle"]["ban_details"]["unbanned_at"], 9);
        assert!(!is_banned(&doc));
        assert_eq!(
            unban(&mut doc, 10).unwrap_err().code,
            ErrorCode::BotsUnbanValidationFailed
        );
    }

    #[test]
    fn bad_ban_bodies_are_refused() {
        let mut doc = bot(None);
        let mut req = ban_request();
        req.ban_date = "2026-11-24".into();
        assert_eq!(ban(&mut doc, req, 1).unwrap_err().code, ErrorCode::BotsInvalidBanBody);
        let mut req = ban_request();
        req.ban_reason = "   ".into();
        assert_eq!(ban(&mut doc, req, 1).unwrap_err().code, ErrorCode::BotsInvalidBanBody);
        assert!(doc.get("status").is_none(), "nothing changed");
    }
}
