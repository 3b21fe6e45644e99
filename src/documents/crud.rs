//! Create, read, merge, delete and list with the reference's semantics (spec §1.7, §1.8),
//! shared by every document domain. A domain supplies a [`Spec`]: its collection, its error
//! codes and its typed checks; its handlers then read like the spec's route table.

use std::collections::HashMap;

use botmox_contract::envelope::ListMeta;
use rand::Rng;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::list::store::Times;
use super::list::{self, Filters, ListQuery};
use super::{merge, pages, secrets, store, Collection, Document};
use crate::audit::store::{self as audit, Action};
use crate::auth::Principal;
use crate::changes::Op;
use crate::clock::now_ms;
use crate::db::Conn;
use crate::error::{ApiError, ApiResult, ErrorCode, FieldErrors};
use crate::http::respond::RawPage;
use crate::state::AppState;

/// The error codes of one document domain.
pub struct Codes {
    pub list_query: ErrorCode,
    pub create_body: ErrorCode,
    pub patch_body: ErrorCode,
    pub id: ErrorCode,
    pub not_found: ErrorCode,
    pub exists: ErrorCode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Patch,
}

/// Checks (and may normalise) the known fields of a body; unknown keys are left alone.
pub type Check = fn(&mut Document, Mode, &mut FieldErrors);

pub struct Spec {
    pub collection: Collection,
    pub codes: Codes,
    pub check: Check,
    /// What its list can be filtered by, besides `q` and `filter.<path>`.
    pub filters: Filters,
}

/// `{ id, deleted: true }`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    pub id: String,
    pub deleted: bool,
}

/// A list page in the envelope, with `meta`; documents go out as stored.
pub use crate::http::respond::TaggedJson as Page;

const MAX_ID_CHARS: usize = 200;

impl Spec {
    /// A path id: trimmed, non-empty, at most 200 characters.
    pub fn parse_id(&self, raw: &str) -> ApiResult<String> {
        let id = raw.trim();
        if id.is_empty() || id.chars().count() > MAX_ID_CHARS {
            return Err(ApiError::new(self.codes.id).with_message("The id must be 1-200 characters"));
        }
        Ok(id.to_owned())
    }

    /// A body must be a non-empty JSON object whose known fields pass the typed checks.
    pub fn parse_body(&self, body: Value, mode: Mode) -> ApiResult<Document> {
        let code = match mode {
            Mode::Create => self.codes.create_body,
            Mode::Patch => self.codes.patch_body,
        };
        let body = match body {
            Value::Object(map) if !map.is_empty() => map,
            _ => return Err(ApiError::new(code).with_message("The body must be a JSON object with at least one field")),
        };
        // A patch's slash keys are checked where they land: `character/level` as `character.level`.
        let (mut doc, sent) = if mode == Mode::Patch && body.keys().any(|k| merge::is_path(k)) {
            (merge::expand(&body), Some(body))
        } else {
            (body, None)
        };
        let mut errors = FieldErrors::default();
        if let Some(id) = doc.get("id") {
            if !matches!(id, Value::String(s) if !s.trim().is_empty() && s.trim().chars().count() <= MAX_ID_CHARS) {
                errors.add("id", "must be a non-empty string of at most 200 characters");
            }
        }
        for key in ["created_at", "updated_at"] {
            if doc.get(key).is_some_and(|v| !v.is_null() && v.as_u64().is_none()) {
                errors.add(key, "must be a whole number of milliseconds since 1970");
            }
        }
        (self.check)(&mut doc, mode, &mut errors);
        errors.into_result(code)?;
        let Some(sent) = sent else { return Ok(doc) };
        // Keep the slash keys for the merge, and the checked (normalised) plain values.
        Ok(sent
            .into_iter()
            .map(|(key, value)| {
                let checked = (!merge::is_path(&key)).then(|| doc.get(&key).cloned()).flatten();
                (key, checked.unwrap_or(value))
            })
            .collect())
    }

    fn not_found(&self) -> ApiError {
        ApiError::new(self.codes.not_found)
    }
}

/// Deserialises the known fields of `doc` into `T` to check their types and ranges,
/// recording the first misfit under its field path.
pub fn typed<T: DeserializeOwned>(doc: &Document, errors: &mut FieldErrors) -> Option<T> {
    let value = Value::Object(doc.clone());
    match serde_path_to_error::deserialize::<_, T>(&value) {
        Ok(v) => Some(v),
        Err(err) => {
            let path = err.path().to_string();
            errors.add_at(&path, err.into_inner().to_string());
            None
        }
    }
}

/// A request body that must be a JSON object of type `T`; anything else answers `code`
/// with the fields that do not fit.
pub fn typed_body<T: DeserializeOwned>(body: &Value, code: ErrorCode) -> ApiResult<T> {
    let mut errors = FieldErrors::default();
    let parsed = match body {
        Value::Object(map) => typed::<T>(map, &mut errors),
        _ => {
            errors = FieldErrors::form("The body must be a JSON object");
            None
        }
    };
    errors.into_result(code)?;
    Ok(parsed.expect("parsed when there are no errors"))
}

/// Like [`typed`], then writes the parsed fields back over the document, so coerced and
/// trimmed values are what gets stored (`null` and unknown keys stay as sent).
pub fn normalise<T: DeserializeOwned + Serialize>(doc: &mut Document, errors: &mut FieldErrors) -> Option<()> {
    let parsed = typed::<T>(doc, errors)?;
    if let Value::Object(fields) = serde_json::to_value(parsed).expect("checked fields serialise") {
        doc.extend(fields);
    }
    Some(())
}

/// Records "is required" for each of `fields` missing or null in `doc`.
pub fn require(doc: &Document, fields: &[&str], errors: &mut FieldErrors) {
    for field in fields {
        if doc.get(*field).is_none_or(Value::is_null) {
            errors.add(*field, "is required");
        }
    }
}

/// `<prefix>-<epoch ms in base36>-<6 random base36 characters>`.
pub fn new_id(prefix: &str) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut ms = now_ms().max(0) as u64;
    let mut time = Vec::new();
    loop {
        time.push(DIGITS[(ms % 36) as usize]);
        ms /= 36;
        if ms == 0 {
            break;
        }
    }
    time.reverse();
    let mut rng = rand::thread_rng();
    let random: String = (0..6).map(|_| DIGITS[rng.gen_range(0..36)] as char).collect();
    format!("{prefix}-{}-{random}", String::from_utf8(time).expect("ascii"))
}

pub async fn list(
    state: &AppState,
    me: &Principal,
    spec: &'static Spec,
    params: HashMap<String, String>,
) -> ApiResult<Page> {
    list_with(state, me, spec, params, 0).await
}

/// [`list`] for a collection whose computed states have an "expiring soon" window.
pub async fn list_with(
    state: &AppState,
    me: &Principal,
    spec: &'static Spec,
    params: HashMap<String, String>,
    warn_days: i64,
) -> ApiResult<Page> {
    let query = ListQuery::parse(&params, spec.codes.list_query, &spec.filters)?;
    // A page that depends on the clock changes without a write: never kept. Nor any page on
    // PostgreSQL, which has no commit count to key it on (`Db::commits`).
    let seen = state.db.commits();
    let key = seen
        .filter(|_| !query.reads_clock())
        .map(|_| pages::Key::new(&me.tenant_id, &me.roles, spec.collection, warn_days, &params));
    let tenant = me.tenant_id.clone();
    let (page, limit) = (query.page, query.limit);
    let (now, warn_ms) = (now_ms(), warn_days.saturating_mul(86_400_000));
    let (vault, terms) = (state.vault.clone(), state.search_terms.clone());
    let read = || async move {
        let (docs, total) = state
            .db
            .read(move |conn| {
                let fts = match &query.q {
                    Some(q) => terms.index_query(conn, spec.collection, q)?,
                    None => None,
                };
                let times = Times { now, warn_ms };
                let (page, total) = list::store::page(conn, &tenant, spec.collection, &query, fts.as_deref(), times)?;
                let page =
                    secrets::reveal_page(conn, &vault, &tenant, spec.collection, page).map_err(ApiError::internal)?;
                Ok::<_, ApiError>((page, total))
            })
            .await?;
        Ok(Page::new(
            RawPage {
                items: docs,
                meta: ListMeta { total, page, limit },
            }
            .render(),
        ))
    };
    let commits = || state.db.commits().unwrap_or_default();
    state
        .pages
        .get_or_read(key, seen.unwrap_or_default(), commits, read)
        .await
}

pub async fn get(state: &AppState, me: &Principal, spec: &'static Spec, id: &str) -> ApiResult<Document> {
    let id = spec.parse_id(id)?;
    let tenant = me.tenant_id.clone();
    let vault = state.vault.clone();
    state
        .db
        .read(move |conn| {
            let mut doc = store::get(conn, &tenant, spec.collection, &id)?.ok_or_else(|| spec.not_found())?;
            secrets::reveal(conn, &vault, &tenant, spec.collection, &id, &mut doc).map_err(ApiError::internal)?;
            Ok(doc)
        })
        .await
}

/// Stores a new document: the body plus `id`, `created_at` (the body's, else now) and
/// `updated_at` (now). A taken id is a conflict, never a silent overwrite.
pub async fn create(state: &AppState, me: &Principal, spec: &'static Spec, body: Value) -> ApiResult<Document> {
    let mut doc = spec.parse_body(body, Mode::Create)?;
    let id = match doc.get("id").and_then(Value::as_str) {
        Some(id) => id.trim().to_owned(),
        None => new_id(spec.collection.id_prefix()),
    };
    let now = now_ms();
    doc.insert("id".into(), Value::String(id.clone()));
    if doc.get("created_at").is_none_or(Value::is_null) {
        doc.insert("created_at".into(), now.into());
    }
    doc.insert("updated_at".into(), now.into());
    let (tenant, id_for_feed) = (me.tenant_id.clone(), id.clone());
    let me = me.clone();
    let vault = state.vault.clone();
    let created = state
        .db
        .write(move |tx| {
            // The answer keeps the plaintext; the stored copy has its credentials sealed.
            let mut stored = doc.clone();
            secrets::seal(tx, &vault, &me.tenant_id, spec.collection, &id, &mut stored).map_err(ApiError::internal)?;
            if !store::insert(tx, &me.tenant_id, spec.collection, &id, &stored, now)? {
                return Err(
                    ApiError::new(spec.codes.exists).with_message(format!("An entry with id {id:?} already exists"))
                );
            }
            let fields: Vec<String> = doc.keys().cloned().collect();
            audit::record(tx, &me, Action::Create, spec.collection.as_str(), &id, &fields)?;
            Ok(doc)
        })
        .await;
    if created.is_ok() {
        announce(state, &tenant, spec, &id_for_feed, Op::Create);
    }
    created
}

/// Applies `change` to the stored document inside one write transaction, then stores it
/// with a fresh `updated_at` and audits the fields that changed. Shared by PATCH and the
/// domain actions (lifecycle transitions, …).
pub async fn update<F>(
    state: &AppState,
    me: &Principal,
    spec: &'static Spec,
    id: String,
    change: F,
) -> ApiResult<Document>
where
    F: FnOnce(&dyn Conn, &mut Document) -> ApiResult<()> + Send + 'static,
{
    let (tenant, id_for_feed) = (me.tenant_id.clone(), id.clone());
    let me = me.clone();
    let vault = state.vault.clone();
    let updated = state
        .db
        .write(move |tx| {
            // `change` sees the stored document, its credentials sealed (a ban's archive
            // snapshot included); the answer gets them back in plaintext.
            let before = store::get(tx, &me.tenant_id, spec.collection, &id)?.ok_or_else(|| spec.not_found())?;
            let mut doc = before.clone();
            change(tx, &mut doc)?;
            let tenant = me.tenant_id.as_str();
            let seal = |doc: &mut Document| secrets::seal(tx, &vault, tenant, spec.collection, &id, doc);
            let reveal = |doc: &mut Document| secrets::reveal(tx, &vault, tenant, spec.collection, &id, doc);
            seal(&mut doc).map_err(ApiError::internal)?;
            let changed: Vec<String> = doc
                .iter()
                .filter(|(k, v)| before.get(*k) != Some(*v))
                .map(|(k, _)| k.clone())
                .collect();
            if changed.is_empty() {
                reveal(&mut doc).map_err(ApiError::internal)?;
                return Ok((doc, false));
            }
            let now = now_ms();
            doc.insert("id".into(), Value::String(id.clone()));
            doc.insert("updated_at".into(), now.into());
            store::replace(tx, &me.tenant_id, spec.collection, &id, &doc, now)?;
            audit::record(tx, &me, Action::Update, spec.collection.as_str(), &id, &changed)?;
            reveal(&mut doc).map_err(ApiError::internal)?;
            Ok((doc, true))
        })
        .await;
    // A change that changed nothing is no change.
    if matches!(updated, Ok((_, true))) {
        announce(state, &tenant, spec, &id_for_feed, Op::Update);
    }
    updated.map(|(doc, _)| doc)
}

/// Shallow merge: each top-level key of the body replaces the stored one (`null` is stored);
/// a slash key sets the one nested leaf it names ([`merge`]).
pub async fn patch(
    state: &AppState,
    me: &Principal,
    spec: &'static Spec,
    id: &str,
    body: Value,
) -> ApiResult<Document> {
    let id = spec.parse_id(id)?;
    let body = spec.parse_body(body, Mode::Patch)?;
    update(state, me, spec, id, move |_, doc| {
        merge::apply(doc, body);
        Ok(())
    })
    .await
}

pub async fn delete(state: &AppState, me: &Principal, spec: &'static Spec, id: &str) -> ApiResult<Deleted> {
    let id = spec.parse_id(id)?;
    let (tenant, id_for_feed) = (me.tenant_id.clone(), id.clone());
    let me = me.clone();
    let deleted = state
        .db
        .write(move |tx| {
            if !store::delete(tx, &me.tenant_id, spec.collection, &id)? {
                return Err(spec.not_found());
            }
            secrets::forget(tx, &me.tenant_id, spec.collection, &id)?;
            audit::record(tx, &me, Action::Delete, spec.collection.as_str(), &id, &[])?;
            Ok(Deleted { id, deleted: true })
        })
        .await;
    if deleted.is_ok() {
        announce(state, &tenant, spec, &id_for_feed, Op::Delete);
    }
    deleted
}

/// The one hook of the change feed for documents, called once a create, change or delete
/// has committed.
fn announce(state: &AppState, tenant: &str, spec: &Spec, id: &str, op: Op) {
    state.changes.publish(tenant, spec.collection.as_str(), id, op);
}

#[cfg(test)]
mod tests {
    #[test]
    fn generated_ids_have_the_reference_shape() {
        let id = super::new_id("bot");
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(parts.len(), 3, "{id}");
        assert_eq!(parts[0], "bot");
        assert_eq!(parts[2].len(), 6);
        assert!(id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'));
    }
}
