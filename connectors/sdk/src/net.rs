//! The one SSRF policy: which addresses and URLs a merchant-supplied endpoint may point at.
//!
//! Merchants type endpoint URLs (a store URL, an `api_base_url`), so they are attacker input.
//! The service checks them when a connection is created ([`check_url`]); the SDK's HTTP client
//! checks them again on every request and, for hostnames, checks the *resolved* addresses at
//! connect time (see [`crate::http`]), so a public name pointing at 127.0.0.1 is refused too.
//!
//! IPv6 is default-deny: only global unicast (`2000::/3`) minus the special ranges below, plus
//! the v4-embedding forms whose embedded address is itself public.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `ip` is an ordinary public unicast address an outbound request may go to.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn in_v4(ip: Ipv4Addr, net: [u8; 4], prefix: u32) -> bool {
    let mask = u32::MAX.checked_shl(32 - prefix).unwrap_or(0);
    u32::from(ip) & mask == u32::from(Ipv4Addr::from(net)) & mask
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    const REFUSED: &[([u8; 4], u32)] = &[
        ([0, 0, 0, 0], 8),       // "this network", includes 0.0.0.0
        ([10, 0, 0, 0], 8),      // private
        ([100, 64, 0, 0], 10),   // CGNAT shared space
        ([127, 0, 0, 0], 8),     // loopback
        ([169, 254, 0, 0], 16),  // link-local (cloud metadata lives here)
        ([172, 16, 0, 0], 12),   // private
        ([192, 0, 0, 0], 24),    // IETF protocol assignments
        ([192, 0, 2, 0], 24),    // TEST-NET-1
        ([192, 88, 99, 0], 24),  // deprecated 6to4 relay anycast
        ([192, 168, 0, 0], 16),  // private
        ([198, 18, 0, 0], 15),   // benchmarking
        ([198, 51, 100, 0], 24), // TEST-NET-2
        ([203, 0, 113, 0], 24),  // TEST-NET-3
        ([224, 0, 0, 0], 4),     // multicast
        ([240, 0, 0, 0], 4),     // reserved, includes broadcast 255.255.255.255
    ];
    !REFUSED.iter().any(|&(net, p)| in_v4(ip, net, p))
}

fn in_v6(ip: Ipv6Addr, net: Ipv6Addr, prefix: u32) -> bool {
    let mask = u128::MAX.checked_shl(128 - prefix).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

const fn v6(s: [u16; 8]) -> Ipv6Addr {
    Ipv6Addr::new(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7])
}

/// The IPv4 address in the low 32 bits.
fn low_v4(ip: Ipv6Addr) -> Ipv4Addr {
    Ipv4Addr::from((u128::from(ip) & 0xffff_ffff) as u32)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    // Forms that carry an IPv4 address the host stack or a gateway may translate to: judge the
    // embedded address (`::ffff:7f00:1` reaches 127.0.0.1 on a dual-stack socket).
    if in_v6(ip, v6([0, 0, 0, 0, 0, 0xffff, 0, 0]), 96) // IPv4-mapped
        || in_v6(ip, Ipv6Addr::UNSPECIFIED, 96) // IPv4-compatible, includes :: and ::1
        || in_v6(ip, v6([0x64, 0xff9b, 0, 0, 0, 0, 0, 0]), 96)
    // NAT64 well-known prefix
    {
        return is_public_v4(low_v4(ip));
    }
    if in_v6(ip, v6([0x2002, 0, 0, 0, 0, 0, 0, 0]), 16) {
        // 6to4: the v4 address is bits 16..48.
        let s = ip.segments();
        let embedded = Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2]));
        return is_public_v4(embedded);
    }
    const REFUSED: &[([u16; 8], u32)] = &[
        ([0x2001, 0, 0, 0, 0, 0, 0, 0], 23), // IETF assignments: Teredo, benchmarking, ORCHID
        ([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32), // documentation
        ([0x3fff, 0, 0, 0, 0, 0, 0, 0], 20), // documentation (RFC 9637)
    ];
    // Global unicast only: this leaves out unique-local fc00::/7, link-local fe80::/10,
    // site-local fec0::/10, multicast ff00::/8, discard 100::/64, local NAT64 64:ff9b:1::/48.
    in_v6(ip, v6([0x2000, 0, 0, 0, 0, 0, 0, 0]), 3)
        && !REFUSED.iter().any(|&(net, p)| in_v6(ip, v6(net), p))
}

/// Whether a merchant-supplied endpoint URL is acceptable: `https` with a public host, or any
/// `http`/`https` URL when `allow_private` (tests, the demo's loopback simulators). Hostnames
/// are not resolved here; the HTTP client checks the resolved addresses when it connects.
/// Messages never echo the URL.
pub fn check_url(url: &str, allow_private: bool) -> Result<(), String> {
    let u = url::Url::parse(url).map_err(|_| "not a valid URL".to_string())?;
    check_parsed(&u, allow_private)
}

/// [`check_url`] for an already parsed URL.
pub fn check_parsed(u: &url::Url, allow_private: bool) -> Result<(), String> {
    match u.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ if allow_private => return Err("URL scheme must be http or https".into()),
        _ => return Err("URL must use https".into()),
    }
    let host = u.host().ok_or("URL has no host")?;
    if allow_private {
        return Ok(());
    }
    let public = match host {
        url::Host::Ipv4(ip) => is_public_v4(ip),
        url::Host::Ipv6(ip) => is_public_v6(ip),
        url::Host::Domain(d) => {
            // `localhost.` is the same name as `localhost`; `url` keeps the trailing dot.
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d != "localhost" && !d.ends_with(".localhost") && !d.is_empty()
        }
    };
    if public {
        Ok(())
    } else {
        Err("URL points at a private address".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_every_special_v4_range() {
        for s in [
            "0.0.0.0",
            "0.255.255.255",
            "10.0.0.1",
            "10.255.255.255",
            "100.64.0.1",
            "100.100.100.100",
            "100.127.255.255",
            "127.0.0.1",
            "127.255.255.254",
            "169.254.169.254",
            "172.16.0.1",
            "172.31.255.255",
            "192.0.0.8",
            "192.0.2.1",
            "192.88.99.1",
            "192.168.1.1",
            "198.18.0.1",
            "198.19.255.255",
            "198.51.100.7",
            "203.0.113.9",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public_ip(ip(s)), "{s} must be refused");
        }
    }

    #[test]
    fn accepts_public_v4_next_to_the_ranges() {
        for s in [
            "1.1.1.1",
            "8.8.8.8",
            "9.255.255.255",
            "11.0.0.0",
            "100.63.255.255",
            "100.128.0.0",
            "126.255.255.255",
            "128.0.0.0",
            "169.253.255.255",
            "172.15.255.255",
            "172.32.0.0",
            "192.0.1.1",
            "192.167.255.255",
            "192.169.0.0",
            "198.17.255.255",
            "198.20.0.0",
            "223.255.255.255",
        ] {
            assert!(is_public_ip(ip(s)), "{s} must be allowed");
        }
    }

    #[test]
    fn refuses_every_special_v6_range() {
        for s in [
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:7f00:1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::ffff:0.0.0.0",
            "::127.0.0.1",
            "::10.1.2.3",
            "64:ff9b::7f00:1",
            "64:ff9b::a00:1",
            "64:ff9b:1::808:808",
            "2002:7f00:1::",
            "2002:a00:1::1",
            "2002:c0a8:101::",
            "2001::1",
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            "2001:2::1",
            "2001:db8::1",
            "2001:db8:ffff::1",
            "3fff::1",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "febf::1",
            "fec0::1",
            "feff::1",
            "ff02::1",
            "ff0e::1",
            "100::1",
            "5f00::1",
        ] {
            assert!(!is_public_ip(ip(s)), "{s} must be refused");
        }
    }

    #[test]
    fn accepts_public_v6_and_public_embedded_v4() {
        for s in [
            "2606:4700:4700::1111",
            "2a00:1450:4001::1",
            "2001:4860:4860::8888",
            "2002:808:808::1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
        ] {
            assert!(is_public_ip(ip(s)), "{s} must be allowed");
        }
    }

    #[test]
    fn urls_with_private_hosts_are_refused() {
        for bad in [
            "https://[::ffff:127.0.0.1]/",
            "https://[::ffff:7f00:1]/",
            "https://0.0.0.0/",
            "https://[64:ff9b::7f00:1]/",
            "https://[2002:7f00:1::]/",
            "https://localhost./",
            "https://LOCALHOST/",
            "https://shop.localhost/",
            "https://shop.localhost./",
            "https://100.100.100.100/",
            "https://[::]/",
            "https://[::1]:8443/x",
            "https://224.0.0.1/",
            "https://127.0.0.1/x",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://10.0.0.5",
            "https://169.254.169.254/latest",
            "https://[fe80::1]/",
            "https://[fd00::1]/",
        ] {
            assert_eq!(
                check_url(bad, false),
                Err("URL points at a private address".to_string()),
                "{bad}"
            );
        }
    }

    #[test]
    fn scheme_and_shape() {
        assert_eq!(
            check_url("http://shop.example.com", false),
            Err("URL must use https".into())
        );
        assert_eq!(
            check_url("ftp://x", false),
            Err("URL must use https".into())
        );
        assert_eq!(
            check_url("ftp://x", true),
            Err("URL scheme must be http or https".into())
        );
        assert_eq!(check_url("not a url", false), Err("not a valid URL".into()));
        assert!(check_url("https://shop.example.com/wp-json", false).is_ok());
        assert!(check_url("https://shop.example.com./", false).is_ok());
        assert!(check_url("https://8.8.8.8/", false).is_ok());
        assert!(check_url("https://[2606:4700:4700::1111]/", false).is_ok());
        assert!(check_url("http://127.0.0.1:9000", true).is_ok());
        assert!(check_url("http://localhost:9000", true).is_ok());
    }
}
