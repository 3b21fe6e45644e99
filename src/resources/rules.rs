//! The typed checks of licenses, proxies and subscriptions (spec §6.2) and their list filters:
//! what each kind's `Spec` holds; pure.

use serde::Deserialize;

use crate::documents::crud::{typed, Codes, Spec};
use crate::documents::fields::{Bounded, Millis};
use crate::documents::list::{self, Filter, FilterKind, Filters};
use crate::documents::{Collection, Document};
use crate::error::{ApiResult, ErrorCode, FieldErrors};

const CODES: Codes = Codes {
    list_query: ErrorCode::ResourcesInvalidListQuery,
    create_body: ErrorCode::ResourcesInvalidBody,
    patch_body: ErrorCode::ResourcesInvalidBody,
    id: ErrorCode::ResourcesInvalidId,
    not_found: ErrorCode::ResourceNotFound,
    exists: ErrorCode::ResourceAlreadyExists,
};

pub(super) static LICENSES: Spec = Spec {
    collection: Collection::Licenses,
    codes: CODES,
    check: |doc, _, errors| check::<License>(doc, errors),
    filters: Filters {
        fields: &[
            Filter::field("status"),
            Filter::field("type"),
            Filter::field("bot_ids"),
            Filter {
                name: "state",
                kind: FilterKind::Computed(list::LICENSE_STATES),
            },
        ],
        range: None,
    },
};
/// Also used by the proxy re-check of the notification scheduler (through `service`).
pub(super) static PROXIES: Spec = Spec {
    collection: Collection::Proxies,
    codes: CODES,
    check: |doc, _, errors| check::<Proxy>(doc, errors),
    filters: Filters {
        fields: &[
            Filter::field("status"),
            Filter::field("type"),
            Filter::field("bot_id"),
            Filter::field("country_code"),
            Filter::field("provider"),
            Filter {
                name: "state",
                kind: FilterKind::Computed(list::PROXY_STATES),
            },
        ],
        range: None,
    },
};
static SUBSCRIPTIONS: Spec = Spec {
    collection: Collection::Subscriptions,
    codes: CODES,
    check: |doc, _, errors| check::<Subscription>(doc, errors),
    filters: Filters {
        fields: &[
            Filter::field("status"),
            Filter::field("type"),
            Filter::field("bot_id"),
            Filter::field("project_id"),
            Filter {
                name: "state",
                kind: FilterKind::Computed(list::SUBSCRIPTION_STATES),
            },
        ],
        range: None,
    },
};

fn check<T: for<'de> Deserialize<'de>>(doc: &mut Document, errors: &mut FieldErrors) {
    typed::<T>(doc, errors);
}

/// `{kind}` → its spec, or 400 `RESOURCES_INVALID_KIND`.
pub(super) fn spec(kind: &str) -> ApiResult<&'static Spec> {
    match kind {
        "licenses" => Ok(&LICENSES),
        "proxies" => Ok(&PROXIES),
        "subscriptions" => Ok(&SUBSCRIPTIONS),
        _ => Err(ErrorCode::ResourcesInvalidKind.into()),
    }
}

// The known fields of each kind (spec §6.2): types and ranges are checked, other keys kept.
#[derive(Deserialize)]
#[allow(dead_code)] // read only to check types and ranges
struct License {
    key: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    status: Option<LicenseStatus>,
    bot_ids: Option<Vec<String>>,
    bot_names: Option<Vec<String>>,
    expires_at: Option<Millis>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum LicenseStatus {
    Active,
    Expired,
    Revoked,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Proxy {
    ip: Option<String>,
    port: Option<Bounded<1, 65535>>,
    login: Option<String>,
    password: Option<String>,
    provider: Option<String>,
    country: Option<String>,
    country_code: Option<String>,
    #[serde(rename = "type")]
    kind: Option<ProxyType>,
    status: Option<ProxyStatus>,
    bot_id: Option<String>,
    expires_at: Option<Millis>,
    last_checked: Option<Millis>,
    fraud_score: Option<Bounded<0, 100>>,
    vpn: Option<bool>,
    proxy: Option<bool>,
    tor: Option<bool>,
    bot_status: Option<bool>,
    latitude: Option<f64>,
    longitude: Option<f64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ProxyType {
    Http,
    Socks5,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum ProxyStatus {
    Active,
    Expired,
    Banned,
}

#[derive(Deserialize)]
#[allow(dead_code)]
struct Subscription {
    #[serde(rename = "type")]
    kind: Option<SubscriptionType>,
    status: Option<SubscriptionStatus>,
    expires_at: Option<Millis>,
    bot_id: Option<String>,
    account_email: Option<String>,
    auto_renew: Option<bool>,
    project_id: Option<String>,
    notes: Option<Notes>,
}

#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SubscriptionType {
    Wow,
    Bot,
    Proxy,
    Vpn,
    Other,
}

/// `expired` and `expiring_soon` are computed, never stored.
#[derive(Deserialize)]
#[serde(rename_all = "lowercase")]
enum SubscriptionStatus {
    Active,
    Cancelled,
}

#[derive(Deserialize)]
#[serde(try_from = "String")]
struct Notes(#[allow(dead_code)] String);

impl TryFrom<String> for Notes {
    type Error = &'static str;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        (s.chars().count() <= 1000)
            .then_some(Notes(s))
            .ok_or("notes are at most 1000 characters")
    }
}
