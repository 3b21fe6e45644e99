//! Who is calling. `X-Forwarded-For` is anyone's to write, so it counts only when the socket's
//! peer is one of the operator's `trusted_proxies`; then the nearest hop that is not itself a
//! trusted proxy is the client (each proxy appends the address it saw, so the right end is
//! the most trustworthy). Otherwise the client is the socket's peer.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use axum::extract::{ConnectInfo, FromRef, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use ipnet::IpNet;

use crate::error::ApiError;

#[derive(Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// `trusted_proxies` entries: CIDRs or single addresses.
    pub fn parse(entries: &[String]) -> Result<TrustedProxies, String> {
        entries
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(|e| {
                crate::egress::parse_network(e)
                    .ok_or_else(|| format!("trusted_proxies entry {e:?} is not a CIDR or an IP address"))
            })
            .collect::<Result<_, _>>()
            .map(TrustedProxies)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    pub fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        if !self.trusts(peer) {
            return peer;
        }
        let hops: Vec<&str> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect();
        let mut nearest = peer;
        for hop in hops.iter().rev() {
            // A hop that is not an address is garbage a client wrote: stop at the last good one.
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            nearest = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        nearest
    }
}

/// The client's address, as above.
pub struct ClientIp(pub IpAddr);

// Bound on the proxies alone, not the whole `AppState`, so that this file depends on no other.
impl<S: Send + Sync> FromRequestParts<S> for ClientIp
where
    Arc<TrustedProxies>: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state)
            .await
            .map_err(ApiError::internal)?;
        let proxies = Arc::<TrustedProxies>::from_ref(state);
        Ok(ClientIp(proxies.client_ip(peer.ip(), &parts.headers)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(xff: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", xff.parse().unwrap());
        headers
    }

    #[test]
    fn forwarded_hops_count_only_behind_a_trusted_proxy() {
        let proxies = TrustedProxies::parse(&["10.0.0.0/8".to_owned()]).unwrap();
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let stranger: IpAddr = "198.51.100.4".parse().unwrap();
        let spoofed = headers("203.0.113.7");
        assert_eq!(proxies.client_ip(stranger, &spoofed), stranger);
        assert_eq!(proxies.client_ip(proxy, &spoofed).to_string(), "203.0.113.7");
        // A client's own (forged) hops sit left of what the trusted proxies appended.
        let chain = headers("1.2.3.4, 203.0.113.7, 10.0.0.2");
        assert_eq!(proxies.client_ip(proxy, &chain).to_string(), "203.0.113.7");
        assert_eq!(
            proxies.client_ip(proxy, &headers("junk, 10.0.0.2")).to_string(),
            "10.0.0.2"
        );
        assert_eq!(proxies.client_ip(proxy, &HeaderMap::new()), proxy);
        assert!(TrustedProxies::parse(&["nope".to_owned()]).is_err());
    }
}
