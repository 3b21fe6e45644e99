//! The egress policy: every outbound HTTP call of the server (webhooks, Telegram, IP quality,
//! the gateway's upstreams) uses a client built here, and the gateway's WebSocket bridge
//! connects through [`Policy::connect`], so a URL a user typed cannot reach the
//! server's own network. Internal ranges (loopback, private, link-local and cloud metadata,
//! CGNAT, unique-local v6, unspecified, multicast, reserved) are refused unless the operator's
//! `egress_allow` names them. The check runs on the RESOLVED addresses inside the client's DNS
//! resolver, and the connection uses the checked addresses, so a name that rebinds to an
//! internal address between check and use cannot pass. Redirects are never followed.
//!
//! Callers report every failure to reach a host (refused here, refused by the host, no route,
//! timeout) with one neutral text, so the answers do not map the network behind the server.

use std::error::Error as StdError;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, OnceLock};

use ipnet::IpNet;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// The operator's exceptions: networks (or single addresses) and host names whose every
/// address may be reached.
#[derive(Debug, Clone, Default)]
pub struct Policy {
    nets: Vec<IpNet>,
    hosts: Vec<String>,
}

/// The refusal, as the client's connect error carries it (logged, never shown to users).
#[derive(Debug, thiserror::Error)]
#[error("{0} is not allowed by the egress policy (egress_allow)")]
pub struct Refused(String);

/// An outbound call that did not produce a response.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error(transparent)]
    Http(#[from] reqwest::Error),
}

impl SendError {
    pub fn is_timeout(&self) -> bool {
        matches!(self, SendError::Http(e) if e.is_timeout())
    }
}

impl Policy {
    /// Parses `egress_allow` entries: a CIDR (`10.0.0.0/8`), an address (`192.168.1.5`) or a
    /// host name (`pve.lan`).
    pub fn parse(entries: &[String]) -> Result<Policy, String> {
        let mut policy = Policy::default();
        for entry in entries.iter().map(|e| e.trim()).filter(|e| !e.is_empty()) {
            if let Some(net) = parse_network(entry) {
                policy.nets.push(net);
            } else if is_host_name(entry) {
                policy.hosts.push(entry.trim_end_matches('.').to_ascii_lowercase());
            } else {
                return Err(format!(
                    "egress_allow entry {entry:?} is neither a CIDR, an IP address nor a host name"
                ));
            }
        }
        Ok(policy)
    }

    /// This policy plus `entries` (parsed like `egress_allow`): for one client whose target
    /// is the operator's own configuration (the object store's endpoint), not for every call.
    pub fn allowing(&self, entries: &[String]) -> Result<Policy, String> {
        let extra = Policy::parse(entries)?;
        let mut policy = self.clone();
        policy.nets.extend(extra.nets);
        policy.hosts.extend(extra.hosts);
        Ok(policy)
    }

    fn allows_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    /// Public addresses always; internal ones only when allowlisted.
    pub fn allows_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        !is_internal(ip) || self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The URL's host when it is an address literal (those never reach the resolver).
    fn check_url(&self, url: &reqwest::Url) -> Result<(), Refused> {
        let Some(host) = url.host_str() else {
            return Err(Refused("a URL without a host".to_owned()));
        };
        let Ok(literal) = host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() else {
            return Ok(());
        };
        if self.allows_ip(literal) {
            Ok(())
        } else {
            Err(Refused(literal.to_string()))
        }
    }
}

/// A CIDR (`10.0.0.0/8`) or a single address (`192.168.1.5`, an IPv4-mapped one as IPv4).
pub fn parse_network(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(|ip| IpNet::from(ip.to_canonical())))
}

fn is_host_name(text: &str) -> bool {
    let text = text.trim_end_matches('.');
    !text.is_empty()
        && text.len() <= 253
        && text.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Addresses that belong to the server's own host or network rather than the internet.
fn is_internal(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_internal_v4(v4),
        IpAddr::V6(v6) => is_internal_v6(v6),
    }
}

fn is_internal_v4(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local() // 169.254.0.0/16, the cloud metadata address included
        || ip.is_broadcast()
        || ip.is_multicast()
        || a == 0 // "this network"
        || a >= 240 // reserved
        || (a == 100 && (64..128).contains(&b)) // CGNAT 100.64.0.0/10
        || (a == 192 && b == 0 && ip.octets()[2] == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
}

fn is_internal_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    let embedded_v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || ip.is_unique_local() // fc00::/7, fd00:ec2::254 (metadata) included
        || ip.is_unicast_link_local()
        || (segments[0] & 0xffc0) == 0xfec0 // deprecated site-local
        // NAT64 and 6to4 carry an IPv4 address that may be internal.
        || (segments[..6] == [0x64, 0xff9b, 0, 0, 0, 0] && is_internal_v4(embedded_v4(segments[6], segments[7])))
        || (segments[0] == 0x2002 && is_internal_v4(embedded_v4(segments[1], segments[2])))
}

type BoxError = Box<dyn StdError + Send + Sync>;

impl Policy {
    /// The DNS step of every outbound connection: resolves `host` (a name or an address
    /// literal) and keeps only the addresses the policy allows; refused when none is left.
    pub async fn resolve_checked(&self, host: &str, port: u16) -> Result<Vec<SocketAddr>, BoxError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let found = tokio::net::lookup_host((host, port)).await?;
        let trusted = self.allows_host(host);
        let kept: Vec<SocketAddr> = found.filter(|a| trusted || self.allows_ip(a.ip())).collect();
        if kept.is_empty() {
            return Err(Box::new(Refused(host.to_owned())));
        }
        Ok(kept)
    }

    /// A TCP connection to `host` for a client that does not go through reqwest (the
    /// gateway's WebSocket bridge): only to a checked address, so it cannot be rebound.
    pub async fn connect(&self, host: &str, port: u16) -> Result<tokio::net::TcpStream, BoxError> {
        let mut last: BoxError = Box::new(Refused(host.to_owned()));
        for addr in self.resolve_checked(host, port).await? {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(stream) => return Ok(stream),
                Err(e) => last = Box::new(e),
            }
        }
        Err(last)
    }
}

/// The resolver of every reqwest client built here.
struct CheckedResolver(Arc<Policy>);

impl Resolve for CheckedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let kept = policy.resolve_checked(name.as_str(), 0).await?;
            let addrs: Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

/// An HTTP client bound to the egress policy. Requests are built with the usual reqwest
/// builder and sent with [`Outbound::send`]. The reqwest client is built on first use:
/// building one reads and parses every root certificate of the system's store, which cost a
/// start milliseconds per client for calls an idle server may never make.
#[derive(Clone)]
pub struct Outbound {
    http: Arc<OnceLock<reqwest::Client>>,
    builder: Arc<dyn Fn() -> reqwest::ClientBuilder + Send + Sync>,
    policy: Arc<Policy>,
}

impl Outbound {
    /// `builder` gives the caller's timeouts and user agent; the policy adds its resolver,
    /// turns redirects off and ignores proxy variables (a proxy would resolve the name itself).
    pub fn new(policy: &Arc<Policy>, builder: impl Fn() -> reqwest::ClientBuilder + Send + Sync + 'static) -> Outbound {
        Outbound {
            http: Arc::default(),
            builder: Arc::new(builder),
            policy: policy.clone(),
        }
    }

    fn http(&self) -> &reqwest::Client {
        self.http.get_or_init(|| {
            (self.builder)()
                .dns_resolver(Arc::new(CheckedResolver(self.policy.clone())))
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .build()
                .expect("a reqwest client with rustls builds")
        })
    }

    /// The bare client, for a library that sends its own requests (the object store's S3
    /// client). Names still go through the policy's resolver, but an address literal skips
    /// it: hand the library only URLs whose literal the policy allows.
    pub fn http_client(&self) -> reqwest::Client {
        self.http().clone()
    }

    pub fn request(&self, method: reqwest::Method, url: &str) -> reqwest::RequestBuilder {
        self.http().request(method, url)
    }

    pub fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::GET, url)
    }

    pub fn post(&self, url: &str) -> reqwest::RequestBuilder {
        self.request(reqwest::Method::POST, url)
    }

    /// Sends a request built from this client, refusing an address literal the policy does
    /// not allow (names are checked by the resolver).
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, SendError> {
        let request = request.build()?;
        if let Err(refused) = self.policy.check_url(request.url()) {
            tracing::warn!(error = %refused, "outbound call refused");
            return Err(refused.into());
        }
        self.http().execute(request).await.map_err(|e| {
            tracing::warn!(error = %describe(&e), "outbound call failed");
            SendError::Http(e)
        })
    }
}

/// The error's kind and causes, without the URL (it may hold a key): for the server log only.
fn describe(e: &reqwest::Error) -> String {
    let mut text = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    }
    .to_owned();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn internal_ranges_are_refused_and_public_ones_pass() {
        let policy = Policy::default();
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(!policy.allows_ip(ip(refused)), "{refused}");
        }
        for allowed in ["1.1.1.1", "8.8.8.8", "2606:4700:4700::1111", "100.128.0.1"] {
            assert!(policy.allows_ip(ip(allowed)), "{allowed}");
        }
    }

    #[test]
    fn the_allowlist_opens_networks_addresses_and_names() {
        let entries = ["10.0.0.0/8", "127.0.0.1", "pve.lan."].map(String::from);
        let policy = Policy::parse(&entries).unwrap();
        assert!(policy.allows_ip(ip("10.9.9.9")));
        assert!(policy.allows_ip(ip("::ffff:127.0.0.1")));
        assert!(!policy.allows_ip(ip("127.0.0.2")));
        assert!(policy.allows_host("PVE.lan"));
        assert!(!policy.allows_host("other.lan"));
        let err = Policy::parse(&["http://x/".to_owned()]).unwrap_err();
        assert!(err.contains("http://x/"), "{err}");
    }

    #[test]
    fn a_configured_endpoint_is_allowed_for_its_own_client_only() {
        let operator = Policy::parse(&["10.0.0.0/8".to_owned()]).unwrap();
        let bucket = operator
            .allowing(&["127.0.0.1".to_owned(), "s3.lan".to_owned()])
            .unwrap();
        assert!(bucket.allows_ip(ip("127.0.0.1")) && bucket.allows_host("s3.lan"));
        assert!(bucket.allows_ip(ip("10.1.1.1")), "the operator's entries still hold");
        assert!(!bucket.allows_ip(ip("127.0.0.2")) && !bucket.allows_ip(ip("169.254.169.254")));
        assert!(
            !operator.allows_ip(ip("127.0.0.1")) && !operator.allows_host("s3.lan"),
            "every other client keeps the operator's policy"
        );
    }
}
