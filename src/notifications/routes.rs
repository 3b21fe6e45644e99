//! `/api/v1/notifications/*`: the notification settings (channels, event switches, daily
//! report time) in one view, the "send test message" button, and the delivery history.

use std::collections::HashMap;

use axum::extract::State;
use botmox_contract::envelope::{Failure, Success};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::prefs::{self, parse_hh_mm, Channel, EventSwitches, Prefs};
use super::rules::{Kind, Notice};
use super::sender;
use super::store::{self, Delivery};
use crate::audit::store::{self as audit, Action};
use crate::auth::{AdminOnly, Authed};
use crate::documents::crud::typed_body;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::extract::{Json, Query};
use crate::http::paging::cursor;
use crate::http::respond::{ok, Ok};
use crate::settings::tree::{self, SettingsPath};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(send_test))
        .routes(routes!(deliveries))
}

/// Telegram: stored at settings `api_keys/telegram`, the same values as the API keys card.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `123456789`, `-100…` or `@channelname`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// `********` once set (kept in the vault); send it back unchanged to keep it, `""` to clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bot_token: Option<String>,
}

/// The generic webhook: a JSON POST to `url`, signed with `secret` (header
/// `X-Botmox-Signature: sha256=<hex HMAC-SHA256 of the body>`).
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// `http://` or `https://`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `********` once set (kept in the vault); send it back unchanged to keep it, `""` to clear.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct DailyReportSettings {
    /// Local `HH:MM` (24 h), default `09:00`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<String>,
    /// The operator's offset from UTC in minutes (-720 to 840), default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub utc_offset_minutes: Option<i64>,
}

/// The body of `PUT /notifications/settings`: any of the four parts; each merges into what is
/// stored, field by field.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsUpdate {
    pub telegram: Option<TelegramSettings>,
    pub webhook: Option<WebhookSettings>,
    pub events: Option<EventSwitches>,
    pub daily_report: Option<DailyReportSettings>,
}

/// Every value filled in (defaults where unset); secrets as `********` or `""`.
#[derive(Serialize, ToSchema)]
pub struct NotificationSettings {
    pub telegram: TelegramSettings,
    pub webhook: WebhookSettings,
    pub events: EventSwitches,
    pub daily_report: DailyReportSettings,
    /// The channels events are delivered to now: switched on and complete.
    pub active_channels: Vec<String>,
}

impl NotificationSettings {
    fn of(tree: &Value) -> NotificationSettings {
        let prefs = Prefs::of(tree.clone());
        let text = |segments: &[&str]| {
            tree::get(tree, &SettingsPath::of(segments))
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let flag = |segments: &[&str]| {
            tree::get(tree, &SettingsPath::of(segments))
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        let switch = |kind: Kind| Some(prefs.wants(kind));
        let (minute, offset) = prefs.daily_report_at();
        NotificationSettings {
            telegram: TelegramSettings {
                enabled: Some(flag(&["api_keys", "telegram", "enabled"])),
                chat_id: Some(text(&["api_keys", "telegram", "chat_id"])),
                bot_token: Some(text(prefs::TELEGRAM_TOKEN)),
            },
            webhook: WebhookSettings {
                enabled: Some(flag(&["notifications", "webhook", "enabled"])),
                url: Some(text(&["notifications", "webhook", "url"])),
                secret: Some(text(prefs::WEBHOOK_SECRET)),
            },
            events: EventSwitches {
                bot_banned: switch(Kind::BotBanned),
                bot_offline: switch(Kind::BotOffline),
                bot_online: switch(Kind::BotOnline),
                level_up: switch(Kind::LevelUp),
                profession_maxed: switch(Kind::ProfessionMaxed),
                low_fraud_score: switch(Kind::LowFraudScore),
                daily_report: switch(Kind::DailyReport),
                resource_expiring: switch(Kind::ResourceExpiring),
            },
            daily_report: DailyReportSettings {
                time: Some(format!("{:02}:{:02}", minute / 60, minute % 60)),
                utc_offset_minutes: Some(offset),
            },
            active_channels: prefs.channels().into_iter().map(|c| c.as_str().to_owned()).collect(),
        }
    }
}

/// Checks what the types do not: formats, ranges, lengths. Strings are trimmed.
fn check(update: &mut SettingsUpdate) -> ApiResult<()> {
    let mut errors = FieldErrors::default();
    let mut text = |field: &str, value: &mut Option<String>, max: usize, ok: &dyn Fn(&str) -> bool, why: &str| {
        if let Some(v) = value {
            *v = v.trim().to_owned();
            if v.chars().count() > max || !(v.is_empty() || v == tree::MASK || ok(v)) {
                errors.add(field, why);
            }
        }
    };
    if let Some(t) = &mut update.telegram {
        let chat = |v: &str| {
            let digits = v.strip_prefix('-').unwrap_or(v);
            (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                || v.strip_prefix('@')
                    .is_some_and(|n| n.len() >= 4 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
        };
        text(
            "telegram.chat_id",
            &mut t.chat_id,
            64,
            &chat,
            "must be a numeric chat id or @channelname",
        );
        let token = |v: &str| {
            v.split_once(':').is_some_and(|(id, rest)| {
                !id.is_empty()
                    && id.bytes().all(|b| b.is_ascii_digit())
                    && !rest.is_empty()
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            })
        };
        text(
            "telegram.bot_token",
            &mut t.bot_token,
            200,
            &token,
            "must look like 123456789:ABC-def (from @BotFather)",
        );
    }
    if let Some(w) = &mut update.webhook {
        let url = |v: &str| v.starts_with("http://") || v.starts_with("https://");
        text(
            "webhook.url",
            &mut w.url,
            2000,
            &url,
            "must be an http:// or https:// URL of at most 2000 characters",
        );
        text(
            "webhook.secret",
            &mut w.secret,
            200,
            &|_| true,
            "must be at most 200 characters",
        );
    }
    if let Some(d) = &mut update.daily_report {
        text(
            "daily_report.time",
            &mut d.time,
            5,
            &|v| parse_hh_mm(v).is_some(),
            "must be HH:MM (24 h)",
        );
        if d.time.as_deref().is_some_and(|t| t.is_empty() || t == tree::MASK) {
            errors.add("daily_report.time", "must be HH:MM (24 h)");
        }
        if d.utc_offset_minutes.is_some_and(|o| !(-720..=840).contains(&o)) {
            errors.add("daily_report.utc_offset_minutes", "must be -720 to 840");
        }
    }
    errors.into_result(ErrorCode::NotificationsInvalidSettingsBody)
}

#[utoipa::path(get, path = "/api/v1/notifications/settings", tag = "notifications", security(("bearer" = [])),
    responses((status = 200, body = Success<NotificationSettings>)))]
async fn get_settings(State(state): State<AppState>, Authed(me, ..): Authed) -> ApiResult<Ok<NotificationSettings>> {
    let tree = state
        .db
        .read(move |conn| crate::settings::store::load(conn, &me.tenant_id).map_err(ApiError::from))
        .await?;
    Ok(ok(NotificationSettings::of(&tree)))
}

/// Merges the parts sent into the stored settings (secrets into the vault) and answers the
/// whole view. The channels (`telegram`, `webhook`) are admin only; events and the daily
/// report are any user's. The Settings page's existing cards (`/settings/api_keys`,
/// `/settings/notifications/events`) write the same values.
#[utoipa::path(put, path = "/api/v1/notifications/settings", tag = "notifications", security(("bearer" = [])),
    request_body = SettingsUpdate,
    responses((status = 200, body = Success<NotificationSettings>), (status = 400, body = Failure)))]
async fn put_settings(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    Json(body): Json<Value>,
) -> ApiResult<Ok<NotificationSettings>> {
    let mut update: SettingsUpdate = typed_body(&body, ErrorCode::NotificationsInvalidSettingsBody)?;
    if update.telegram.is_some() || update.webhook.is_some() {
        crate::settings::service::channels_need_admin(&me)?;
    }
    check(&mut update)?;
    let parts: Vec<(&'static [&'static str], Value)> = [
        (prefs::TELEGRAM, update.telegram.map(|v| json!(v))),
        (prefs::WEBHOOK, update.webhook.map(|v| json!(v))),
        (prefs::EVENTS, update.events.map(|v| json!(v))),
        (prefs::DAILY_REPORT, update.daily_report.map(|v| json!(v))),
    ]
    .into_iter()
    .filter_map(|(path, value)| {
        value
            .filter(|v| v.as_object().is_some_and(|o| !o.is_empty()))
            .map(|v| (path, v))
    })
    .collect();
    if parts.is_empty() {
        return Err(ApiError::new(ErrorCode::NotificationsInvalidSettingsBody)
            .with_message("Send at least one of telegram, webhook, events, daily_report with a field"));
    }
    let vault = state.vault.clone();
    let tree = state
        .db
        .write(move |tx| {
            let tx = crate::db::sqlite_only(tx)?;
            let fields: Vec<String> = parts.iter().map(|(path, _)| path.join("/")).collect();
            let tree = tree::update(tx, &vault, &me.tenant_id, |t| {
                for (path, value) in parts {
                    tree::set(t, &SettingsPath::of(path), value);
                }
            })?;
            audit::record(tx, &me, Action::Update, "settings", "notifications", &fields)?;
            Ok::<_, ApiError>(tree)
        })
        .await?;
    Ok(ok(NotificationSettings::of(&tree)))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct TestRequest {
    /// `telegram` (default) or `webhook`.
    pub channel: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TestSent {
    /// Its row in the delivery history.
    pub delivery_id: i64,
    pub channel: String,
}

/// Sends a test message on a channel now, once, whether or not the channel is switched on;
/// the answer says whether it was delivered (502 with the receiver's reason if not).
#[utoipa::path(post, path = "/api/v1/notifications/test", tag = "notifications", security(("bearer" = [])),
    request_body = TestRequest,
    responses((status = 200, body = Success<TestSent>), (status = 400, body = Failure), (status = 409, body = Failure),
        (status = 502, body = Failure)))]
async fn send_test(
    State(state): State<AppState>,
    Authed(me, ..): Authed,
    body: Option<Json<Value>>,
) -> ApiResult<Ok<TestSent>> {
    let request: TestRequest = match body {
        Some(Json(body)) => typed_body(&body, ErrorCode::NotificationsInvalidTestBody)?,
        None => TestRequest::default(),
    };
    let channel = match request.channel.as_deref() {
        None => Channel::Telegram,
        Some(name) => Channel::parse(name).ok_or(ErrorCode::NotificationsInvalidTestBody)?,
    };
    let notice = Notice {
        kind: Kind::Test,
        text: "✅ Bot-Mox test message: notifications reach this chat.".into(),
        data: json!({ "requested_by": me.email }),
    };
    let delivery_id = sender::send_now(&state, &me.tenant_id, channel, notice).await?;
    Ok(ok(TestSent {
        delivery_id,
        channel: channel.as_str().to_owned(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct DeliveryPage {
    pub items: Vec<Delivery>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_before: Option<i64>,
}

/// The tenant's deliveries, newest first (admin): `limit` (1-200, default 50) rows older than
/// `before` (a row's `id`). Finished rows are kept 30 days.
#[utoipa::path(get, path = "/api/v1/notifications/deliveries", tag = "notifications", security(("bearer" = [])),
    params(crate::http::paging::CursorQuery),
    responses((status = 200, body = Success<DeliveryPage>), (status = 400, body = Failure), (status = 403, body = Failure)))]
async fn deliveries(
    State(state): State<AppState>,
    Authed(me, ..): Authed<AdminOnly>,
    Query(params): Query<HashMap<String, String>>,
) -> ApiResult<Ok<DeliveryPage>> {
    let (before, limit) = cursor(&params)?;
    let items = state
        .db
        .read(move |conn| store::history(conn, &me.tenant_id, before, limit).map_err(ApiError::from))
        .await?;
    let next_before = (items.len() as u64 == limit)
        .then(|| items.last().map(|d| d.id))
        .flatten();
    Ok(ok(DeliveryPage { items, next_before }))
}
