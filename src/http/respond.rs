//! The success shapes handlers return. Apart from the router (`http/mod.rs`), which imports every
//! domain, so that a domain's routes depend on this file alone and not on all the others.

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use botmox_contract::envelope::{ListMeta, Success};

/// A 200 with the success envelope.
pub type Ok<T> = axum::Json<Success<T>>;
/// A 201 with the success envelope.
pub type Created<T> = (StatusCode, axum::Json<Success<T>>);

pub fn ok<T>(data: T) -> Ok<T> {
    axum::Json(Success::new(data))
}

pub fn created<T>(data: T) -> Created<T> {
    (StatusCode::CREATED, ok(data))
}

/// A list page in the success envelope, `meta` included, whose items are JSON texts already
/// (stored documents): they are written as they are, neither parsed nor re-encoded. The bytes
/// are the ones serde gives for `Success<Vec<RawValue>>`.
pub struct RawPage {
    pub items: Vec<String>,
    pub meta: ListMeta,
}

impl RawPage {
    pub fn render(&self) -> Bytes {
        let size = self.items.iter().map(|item| item.len() + 1).sum::<usize>();
        let mut body = Vec::with_capacity(size + 96);
        body.extend_from_slice(br#"{"success":true,"data":["#);
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                body.push(b',');
            }
            body.extend_from_slice(item.as_bytes());
        }
        body.extend_from_slice(br#"],"meta":"#);
        serde_json::to_writer(&mut body, &self.meta).expect("numbers serialise");
        body.push(b'}');
        body.into()
    }
}

/// A 200 whose JSON body is written already (a rendered [`RawPage`], maybe a kept one), with
/// its ETag, so the conditional-GET layer need not hash it again.
#[derive(Clone)]
pub struct TaggedJson {
    pub body: Bytes,
    etag: HeaderValue,
}

impl TaggedJson {
    pub fn new(body: Bytes) -> TaggedJson {
        let etag = super::etag::tag_of(&body);
        TaggedJson { body, etag }
    }
}

impl IntoResponse for TaggedJson {
    fn into_response(self) -> Response {
        (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static("application/json")),
                (header::ETAG, self.etag),
            ],
            self.body,
        )
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::value::RawValue;

    use super::*;

    #[tokio::test]
    async fn a_raw_page_is_what_serde_writes_for_the_same_page() {
        let meta = ListMeta {
            total: 7,
            page: 2,
            limit: 3,
        };
        for items in [
            vec![],
            vec![r#"{"id":"a","n":[1,2]}"#.to_owned(), r#"{"id":"b"}"#.to_owned()],
        ] {
            let raw: Vec<Box<RawValue>> = items
                .iter()
                .map(|i| RawValue::from_string(i.clone()).unwrap())
                .collect();
            let want = serde_json::to_vec(&Success {
                success: true,
                data: raw,
                meta: Some(meta),
            })
            .unwrap();
            let response = TaggedJson::new(RawPage { items, meta }.render()).into_response();
            assert_eq!(response.headers()[header::CONTENT_TYPE], "application/json");
            let got = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
            assert_eq!(got, want);
        }
    }
}
