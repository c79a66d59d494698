//! SSRF guard for merchant-supplied endpoint URLs: no loopback, private, link-local or
//! unspecified addresses (literal IPs and `localhost`), https only, unless the process runs
//! with `--allow-private-endpoints` (tests, demo). Hostnames are not resolved here; the
//! deployment's egress policy covers DNS rebinding.

use std::net::IpAddr;

pub fn check(url: &str, allow_private: bool) -> Result<(), String> {
    let u = url::Url::parse(url).map_err(|_| "not a valid URL".to_string())?;
    if allow_private {
        return match u.scheme() {
            "http" | "https" => Ok(()),
            _ => Err("URL scheme must be http or https".into()),
        };
    }
    if u.scheme() != "https" {
        return Err("URL must use https".into());
    }
    let host = u.host_str().ok_or("URL has no host")?;
    if host.eq_ignore_ascii_case("localhost") || host.ends_with(".localhost") {
        return Err("URL points at a private address".into());
    }
    if let Ok(ip) = host.trim_matches(['[', ']']).parse::<IpAddr>() {
        let private = match ip {
            IpAddr::V4(v4) => {
                v4.is_loopback()
                    || v4.is_private()
                    || v4.is_link_local()
                    || v4.is_unspecified()
                    || v4.is_broadcast()
                    || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1])
            }
            IpAddr::V6(v6) => {
                v6.is_loopback()
                    || v6.is_unspecified()
                    || (v6.segments()[0] & 0xfe00) == 0xfc00
                    || (v6.segments()[0] & 0xffc0) == 0xfe80
            }
        };
        if private {
            return Err("URL points at a private address".into());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check;

    #[test]
    fn refuses_private_targets() {
        for bad in [
            "http://shop.example.com",
            "https://127.0.0.1/x",
            "https://10.0.0.5",
            "https://localhost:8080",
            "https://[::1]/",
            "https://169.254.169.254/latest",
            "ftp://x",
        ] {
            assert!(check(bad, false).is_err(), "{bad}");
        }
        assert!(check("https://shop.example.com/wp-json", false).is_ok());
        assert!(check("http://127.0.0.1:9000", true).is_ok());
    }
}
