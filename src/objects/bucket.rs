//! Objects in an S3-compatible bucket: where (`object_store_url` and its options, checked
//! here as pure rules) and the client that reaches it.
//!
//! The client's HTTP goes through the egress policy like every outbound call; the bucket's
//! endpoint is the operator's own configuration, so that one client (and no other) may reach
//! it even on an internal address.

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::client::{HttpClient, HttpConnector};
use object_store::prefix::PrefixStore;
use object_store::{ClientOptions, ObjectStore, RetryConfig};
use serde::Serialize;

use crate::egress::{Outbound, Policy};

pub const DEFAULT_REGION: &str = "us-east-1";

/// A bucket and the prefix under it, with how to reach them. Holds no credential.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub name: String,
    /// `/`-separated, without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
    /// `None`: AWS itself, by region.
    pub endpoint: Option<String>,
    pub region: String,
    /// `https://endpoint/bucket/key` (true) or `https://bucket.endpoint/key`.
    pub path_style: bool,
}

/// The credentials the client signs with (from `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
/// and `AWS_SESSION_TOKEN`).
pub struct Keys<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

impl Bucket {
    /// `url` is `s3://bucket[/prefix]`; `endpoint` an `http(s)://host[:port]` origin for
    /// another S3-compatible service.
    pub fn parse(
        url: &str,
        endpoint: Option<&str>,
        region: Option<&str>,
        path_style: Option<bool>,
    ) -> Result<Bucket, String> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| format!("object_store_url {url:?} must look like s3://bucket or s3://bucket/prefix"))?;
        let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if !is_bucket_name(name) {
            return Err(format!(
                "object_store_url {url:?}: {name:?} is not a bucket name (3 to 63 lower-case letters, digits, '.' or '-')"
            ));
        }
        let prefix = prefix.trim_end_matches('/');
        if !prefix.is_empty() && super::parse_key(prefix).is_err() {
            return Err(format!(
                "object_store_url {url:?}: the prefix must be '/'-separated segments without '..' or empty parts"
            ));
        }
        let endpoint = endpoint
            .map(|e| {
                let parsed = reqwest::Url::parse(e).ok().filter(|u| {
                    matches!(u.scheme(), "http" | "https")
                        && u.host_str().is_some()
                        && u.path() == "/"
                        && u.username().is_empty()
                        && u.password().is_none()
                });
                parsed
                    .map(|_| e.trim_end_matches('/').to_owned())
                    .ok_or_else(|| {
                        "object_store_endpoint must be an origin without a path or credentials, e.g. https://s3.example.com:9000"
                            .to_owned()
                    })
            })
            .transpose()?;
        let region = region
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .unwrap_or(DEFAULT_REGION);
        Ok(Bucket {
            name: name.to_owned(),
            prefix: prefix.to_owned(),
            endpoint,
            region: region.to_owned(),
            path_style: path_style.unwrap_or(true),
        })
    }

    /// `s3://bucket/prefix`: what health and messages show.
    pub fn location(&self) -> String {
        match self.prefix.as_str() {
            "" => format!("s3://{}", self.name),
            prefix => format!("s3://{}/{prefix}", self.name),
        }
    }

    /// The host names (or address literals) the client calls: the endpoint's, and with
    /// virtual-hosted requests the bucket's name under it. Nothing for AWS itself, whose
    /// addresses are public.
    fn endpoint_hosts(&self) -> Vec<String> {
        let Some(host) = self
            .endpoint
            .as_deref()
            .and_then(|e| reqwest::Url::parse(e).ok())
            .and_then(|u| {
                u.host_str()
                    .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
            })
        else {
            return Vec::new();
        };
        if self.path_style {
            vec![host]
        } else {
            vec![format!("{}.{host}", self.name), host]
        }
    }

    /// The store over this bucket and prefix, through the egress policy plus this endpoint.
    pub fn open(&self, keys: &Keys<'_>, egress: &Policy) -> Result<Arc<dyn ObjectStore>, String> {
        let policy = Arc::new(egress.allowing(&self.endpoint_hosts())?);
        // No overall timeout: an ISO streams for minutes; a stalled read still ends.
        let http = Outbound::new(&policy, || {
            reqwest::Client::builder()
                .connect_timeout(Duration::from_secs(5))
                .read_timeout(Duration::from_secs(30))
        })
        .http_client();
        let retry = RetryConfig {
            max_retries: 3,
            retry_timeout: Duration::from_secs(15),
            ..RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&self.name)
            .with_region(&self.region)
            .with_access_key_id(keys.access_key_id)
            .with_secret_access_key(keys.secret_access_key)
            .with_virtual_hosted_style_request(!self.path_style)
            .with_retry(retry)
            .with_http_connector(Connector(http));
        if let Some(token) = keys.session_token {
            builder = builder.with_token(token);
        }
        if let Some(endpoint) = &self.endpoint {
            builder = builder
                .with_endpoint(endpoint)
                .with_allow_http(endpoint.starts_with("http://"));
        }
        let store = builder.build().map_err(|e| e.to_string())?;
        Ok(match self.prefix.as_str() {
            "" => Arc::new(store),
            prefix => Arc::new(PrefixStore::new(store, prefix)),
        })
    }
}

fn is_bucket_name(name: &str) -> bool {
    let edge_ok = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
        && edge_ok(name.bytes().next())
        && edge_ok(name.bytes().last())
        && !name.contains("..")
}

/// Hands the S3 client the egress policy's HTTP client instead of one of its own.
#[derive(Debug)]
struct Connector(reqwest::Client);

impl HttpConnector for Connector {
    fn connect(&self, _: &ClientOptions) -> object_store::Result<HttpClient> {
        Ok(HttpClient::new(self.0.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_endpoints_and_defaults() {
        let b = Bucket::parse("s3://media/prod/eu/", Some("http://127.0.0.1:9000/"), None, None).unwrap();
        assert_eq!(
            (
                b.name.as_str(),
                b.prefix.as_str(),
                b.endpoint.as_deref(),
                b.region.as_str(),
                b.path_style
            ),
            ("media", "prod/eu", Some("http://127.0.0.1:9000"), DEFAULT_REGION, true)
        );
        assert_eq!(b.location(), "s3://media/prod/eu");
        assert_eq!(b.endpoint_hosts(), vec!["127.0.0.1".to_owned()]);
        let b = Bucket::parse("s3://media", Some("https://s3.lan"), Some("eu-west-1"), Some(false)).unwrap();
        assert_eq!((b.location().as_str(), b.region.as_str()), ("s3://media", "eu-west-1"));
        assert_eq!(b.endpoint_hosts(), vec!["media.s3.lan".to_owned(), "s3.lan".to_owned()]);
        assert!(Bucket::parse("s3://media", None, None, None)
            .unwrap()
            .endpoint_hosts()
            .is_empty());
    }

    #[test]
    fn bad_urls_and_endpoints_name_what_is_wrong() {
        for (url, endpoint, says) in [
            ("media", None, "s3://bucket"),
            ("https://media", None, "s3://bucket"),
            ("s3://Media", None, "not a bucket name"),
            ("s3://ab", None, "not a bucket name"),
            ("s3://-media", None, "not a bucket name"),
            ("s3://media/a//b", None, "prefix"),
            ("s3://media/../x", None, "prefix"),
            ("s3://media", Some("s3.lan"), "object_store_endpoint"),
            ("s3://media", Some("ftp://s3.lan"), "object_store_endpoint"),
            ("s3://media", Some("https://s3.lan/path"), "object_store_endpoint"),
            ("s3://media", Some("https://key:secret@s3.lan"), "object_store_endpoint"),
        ] {
            let err = Bucket::parse(url, endpoint, None, None).unwrap_err();
            assert!(err.contains(says), "{url} {endpoint:?}: {err}");
        }
    }
}
