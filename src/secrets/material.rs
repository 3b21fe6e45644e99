//! What a secret holds, and how a create or rotate body becomes it.
//!
//! Two forms are accepted: the reference's client-encrypted envelope (`ciphertext`, `nonce`,
//! `alg`, `key_id`; the server never decrypts it) and a plain `value`, which only the vault
//! encryption protects. Either way the material is sealed by the vault before it is stored.

use serde::Deserialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use crate::documents::fields::Text;
use crate::error::FieldErrors;

/// The `key_id` of plain values: the vault's master key.
pub const SERVER_KEY_ID: &str = "server-vault";
/// The vault's cipher, the `alg` of plain values.
pub const SERVER_ALG: &str = "XChaCha20-Poly1305";
/// The reference's default `alg` for client-encrypted material.
const CLIENT_DEFAULT_ALG: &str = "AES-256-GCM";
/// Room for any credential; the reference sets no bound.
const MAX_MATERIAL_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Encrypted by the client; the server holds an opaque envelope.
    Client,
    /// A plain value encrypted by the server's vault; agents can be handed the value.
    Server,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Client => "client",
            Kind::Server => "server",
        }
    }
}

#[derive(Clone, PartialEq, Eq)]
pub enum Material {
    Client { ciphertext: String, nonce: String },
    Server { value: String },
}

/// Never prints the material.
impl std::fmt::Debug for Material {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Material::{:?}(<redacted>)", self.kind())
    }
}

impl Material {
    pub fn kind(&self) -> Kind {
        match self {
            Material::Client { .. } => Kind::Client,
            Material::Server { .. } => Kind::Server,
        }
    }

    /// What the vault seals: the value's bytes, or the envelope as JSON.
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Material::Client { ciphertext, nonce } => json!({ "ciphertext": ciphertext, "nonce": nonce })
                .to_string()
                .into_bytes(),
            Material::Server { value } => value.clone().into_bytes(),
        }
    }

    pub fn from_bytes(kind: Kind, bytes: &[u8]) -> Option<Material> {
        match kind {
            Kind::Server => String::from_utf8(bytes.to_vec())
                .ok()
                .map(|value| Material::Server { value }),
            Kind::Client => {
                let doc: Value = serde_json::from_slice(bytes).ok()?;
                Some(Material::Client {
                    ciphertext: doc["ciphertext"].as_str()?.to_owned(),
                    nonce: doc["nonce"].as_str()?.to_owned(),
                })
            }
        }
    }
}

/// The material of a create or rotate body: a client-encrypted envelope (`ciphertext`,
/// `nonce`, `key_id`, `alg?`) or a plain `value` the server encrypts (`key_id`, if sent, must
/// be `server-vault`). On rotation `alg` and `aad_meta` keep their values when absent.
#[derive(Deserialize, ToSchema)]
pub struct MaterialFields {
    pub value: Option<String>,
    #[schema(value_type = Option<String>)]
    pub ciphertext: Option<Text<1, MAX_MATERIAL_BYTES>>,
    #[schema(value_type = Option<String>)]
    pub nonce: Option<Text<1, 200>>,
    #[schema(value_type = Option<String>)]
    pub alg: Option<Text<1, 50>>,
    #[schema(value_type = Option<String>)]
    pub key_id: Option<Text<1, 200>>,
    #[schema(value_type = Option<Object>)]
    pub aad_meta: Option<Value>,
}

/// Parsed material and its metadata.
pub struct Parsed {
    pub material: Material,
    pub alg: String,
    pub key_id: String,
    pub aad_meta: Value,
}

/// Checks the fields; `keep` supplies `alg` and `aad_meta` when a rotation omits them.
pub fn parse(fields: MaterialFields, keep: Option<(&str, &Value)>, errors: &mut FieldErrors) -> Option<Parsed> {
    let aad_meta = match fields.aad_meta {
        Some(meta) if meta.is_object() => meta,
        Some(_) => {
            errors.add("aad_meta", "must be an object");
            return None;
        }
        None => keep.map_or_else(|| json!({}), |(_, meta)| meta.clone()),
    };
    match (fields.value, fields.ciphertext) {
        (Some(_), Some(_)) => {
            errors.add("value", "send either value or ciphertext, not both");
            None
        }
        (Some(value), None) => {
            if value.is_empty() || value.len() > MAX_MATERIAL_BYTES {
                errors.add("value", format!("must be 1-{MAX_MATERIAL_BYTES} bytes"));
            }
            if fields.key_id.as_deref().is_some_and(|k| k != SERVER_KEY_ID) {
                errors.add(
                    "key_id",
                    format!("a plain value is encrypted with the vault key {SERVER_KEY_ID:?}"),
                );
            }
            if fields.nonce.is_some() {
                errors.add("nonce", "a plain value takes no nonce");
            }
            errors.is_empty().then(|| Parsed {
                material: Material::Server { value },
                alg: SERVER_ALG.to_owned(),
                key_id: SERVER_KEY_ID.to_owned(),
                aad_meta,
            })
        }
        (None, Some(ciphertext)) => {
            if fields.nonce.is_none() {
                errors.add("nonce", "is required");
            }
            if fields.key_id.is_none() {
                errors.add("key_id", "is required");
            }
            let (nonce, key_id) = (fields.nonce?, fields.key_id?);
            let alg = fields.alg.map(|a| a.0).unwrap_or_else(|| match keep {
                Some((alg, _)) if alg != SERVER_ALG => alg.to_owned(),
                _ => CLIENT_DEFAULT_ALG.to_owned(),
            });
            Some(Parsed {
                material: Material::Client {
                    ciphertext: ciphertext.0,
                    nonce: nonce.0,
                },
                alg,
                key_id: key_id.0,
                aad_meta,
            })
        }
        (None, None) => {
            errors.add("ciphertext", "send ciphertext, nonce and key_id, or a plain value");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: Value) -> MaterialFields {
        serde_json::from_value(body).unwrap()
    }

    #[test]
    fn plain_values_take_the_vault_key_and_client_envelopes_keep_theirs() {
        let mut errors = FieldErrors::default();
        let plain = parse(fields(json!({ "value": " pw " })), None, &mut errors).unwrap();
        assert_eq!(plain.material, Material::Server { value: " pw ".into() });
        assert_eq!((plain.key_id.as_str(), plain.alg.as_str()), (SERVER_KEY_ID, SERVER_ALG));

        let client = parse(
            fields(json!({ "ciphertext": "Y3Q=", "nonce": "bm9uY2U=", "key_id": "local-browser-key-v1" })),
            None,
            &mut errors,
        )
        .unwrap();
        assert_eq!(client.alg, "AES-256-GCM");
        assert_eq!(
            Material::from_bytes(Kind::Client, &client.material.to_bytes()),
            Some(client.material)
        );
        assert!(errors.is_empty());
    }

    #[test]
    fn mixed_or_incomplete_forms_are_refused() {
        for body in [
            json!({ "value": "a", "ciphertext": "b", "nonce": "n", "key_id": "k" }),
            json!({ "ciphertext": "b" }),
            json!({ "value": "a", "key_id": "someone-elses-key" }),
            json!({ "value": "" }),
            json!({}),
            json!({ "value": "a", "aad_meta": [] }),
        ] {
            let mut errors = FieldErrors::default();
            assert!(
                parse(fields(body.clone()), None, &mut errors).is_none() || !errors.is_empty(),
                "{body}"
            );
        }
    }

    #[test]
    fn a_rotation_keeps_alg_and_aad_meta_when_absent() {
        let mut errors = FieldErrors::default();
        let meta = json!({ "purpose": "pve" });
        let rotated = parse(
            fields(json!({ "ciphertext": "eA==", "nonce": "bg==", "key_id": "k2" })),
            Some(("AES-128-GCM", &meta)),
            &mut errors,
        )
        .unwrap();
        assert_eq!((rotated.alg.as_str(), &rotated.aad_meta), ("AES-128-GCM", &meta));
    }

    #[test]
    fn debug_output_never_shows_the_material() {
        let text = format!(
            "{:?}",
            Material::Server {
                value: "hunter2".into()
            }
        );
        assert!(!text.contains("hunter2"), "{text}");
    }
}
