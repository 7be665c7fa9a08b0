//! Who the client is, for rate limits and stream caps: the TCP peer, or, when the peer is a
//! proxy the operator trusts (`TSUDOI_TRUSTED_PROXIES`), the address that proxy reports.
//! Behind the TLS proxy the README recommends every request comes from the proxy; without
//! this, all visitors would share one rate-limit bucket. Headers from anyone else are
//! ignored, so a client cannot pick its own address by sending `X-Forwarded-For`.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// Parses `TSUDOI_TRUSTED_PROXIES`: comma-separated addresses or CIDR blocks
/// (`127.0.0.1, 10.0.0.0/8, ::1`). An entry that is neither is an error naming it.
pub fn parse_trusted(list: &str) -> Result<Vec<IpNet>, String> {
    list.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("TSUDOI_TRUSTED_PROXIES: {s:?} is not an address or CIDR block"))
        })
        .collect()
}

/// The client's address: the peer, unless the peer is trusted; then the right-most address
/// of `X-Forwarded-For` (or `Forwarded: for=`) that is not itself a trusted proxy. A header
/// that does not parse leaves the peer.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = canonical(peer.ip());
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut hops: Vec<IpAddr> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(value) = value.to_str() else { return peer };
        for part in value.split(',') {
            match part.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(canonical(ip)),
                Err(_) => return peer,
            }
        }
    }
    if hops.is_empty() {
        for value in headers.get_all("forwarded") {
            let Ok(value) = value.to_str() else { return peer };
            for element in value.split(',') {
                let Some(ip) = forwarded_for(element) else { return peer };
                hops.push(canonical(ip));
            }
        }
    }
    hops.into_iter().rev().find(|ip| !is_trusted(ip)).unwrap_or(peer)
}

/// The address of one `Forwarded` element (`for=192.0.2.1`, `for="[2001:db8::1]:443"`).
fn forwarded_for(element: &str) -> Option<IpAddr> {
    let value = element.split(';').find_map(|pair| {
        let (key, value) = pair.trim().split_once('=')?;
        key.eq_ignore_ascii_case("for").then(|| value.trim().trim_matches('"'))
    })?;
    if let Some(v6) = value.strip_prefix('[') {
        return v6.split(']').next()?.parse().ok();
    }
    // An IPv4 address, perhaps with a port.
    value.split(':').next()?.parse().ok()
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`, what a dual-stack socket reports) as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The key a per-client limit counts under: an IPv4 address, or the /64 of an IPv6 one (one
/// subscriber usually holds a whole /64 and could otherwise rotate through it).
pub fn limit_key(ip: IpAddr) -> IpAddr {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(Ipv6Addr::from(bits))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(*k, v.parse().unwrap());
        }
        h
    }

    fn peer(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse().unwrap(), 40000)
    }

    #[test]
    fn a_forwarded_address_is_believed_only_from_a_trusted_proxy() {
        let trusted = parse_trusted("127.0.0.1, 10.0.0.0/8").unwrap();
        let xff = headers(&[("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_ip(peer("127.0.0.1"), &xff, &trusted), "203.0.113.9".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(peer("198.51.100.7"), &xff, &trusted), "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(client_ip(peer("127.0.0.1"), &xff, &[]), "127.0.0.1".parse::<IpAddr>().unwrap(), "none trusted");
    }

    #[test]
    fn the_client_is_the_right_most_untrusted_hop_so_a_forged_left_part_does_not_count() {
        let trusted = parse_trusted("127.0.0.1,10.0.0.0/8").unwrap();
        let forged = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.1.2.3")]);
        assert_eq!(client_ip(peer("127.0.0.1"), &forged, &trusted), "203.0.113.9".parse::<IpAddr>().unwrap());
        let two_headers = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(client_ip(peer("127.0.0.1"), &two_headers, &trusted), "203.0.113.9".parse::<IpAddr>().unwrap());
        let all_trusted = headers(&[("x-forwarded-for", "10.0.0.2")]);
        assert_eq!(client_ip(peer("127.0.0.1"), &all_trusted, &trusted), "127.0.0.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn garbage_in_the_header_leaves_the_peer() {
        let trusted = parse_trusted("127.0.0.1").unwrap();
        for bad in ["", "not an ip", "203.0.113.9, nope", "203.0.113.9;"] {
            let h = headers(&[("x-forwarded-for", bad)]);
            assert_eq!(client_ip(peer("127.0.0.1"), &h, &trusted), "127.0.0.1".parse::<IpAddr>().unwrap(), "{bad:?}");
        }
    }

    #[test]
    fn the_standard_forwarded_header_is_read_too() {
        let trusted = parse_trusted("::1").unwrap();
        let h = headers(&[("forwarded", r#"for="[2001:db8::7]:443";proto=https, for=192.0.2.60"#)]);
        assert_eq!(client_ip(peer("::1"), &h, &trusted), "192.0.2.60".parse::<IpAddr>().unwrap());
        let h = headers(&[("forwarded", r#"for="[2001:db8::7]:443""#)]);
        assert_eq!(client_ip(peer("::1"), &h, &trusted), "2001:db8::7".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64_and_mapped_ipv4_as_ipv4() {
        let a = limit_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = limit_key("2001:db8:1:2:bbbb::9".parse().unwrap());
        let other = limit_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, other);
        assert_eq!(limit_key("::ffff:192.0.2.1".parse().unwrap()), "192.0.2.1".parse::<IpAddr>().unwrap());
    }

    #[test]
    fn a_bad_trusted_list_names_the_bad_entry() {
        assert_eq!(parse_trusted(" ").unwrap(), Vec::<IpNet>::new());
        let err = parse_trusted("10.0.0.0/8, proxy.local").unwrap_err();
        assert!(err.contains("proxy.local"), "{err}");
        assert!(parse_trusted("10.0.0.0/33").is_err());
    }
}
