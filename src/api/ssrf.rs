//! SSRF guard for merchant-supplied endpoint URLs at connection-create time: the SDK's one
//! policy ([`ordersync_sdk::net`]). The HTTP client applies the same policy again to resolved
//! addresses on every connect, which covers hostnames and DNS rebinding.

pub fn check(url: &str, allow_private: bool) -> Result<(), String> {
    ordersync_sdk::net::check_url(url, allow_private)
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
            "https://localhost./",
            "https://[::1]/",
            "https://[::ffff:127.0.0.1]/",
            "https://[64:ff9b::7f00:1]/",
            "https://[2002:7f00:1::]/",
            "https://0.0.0.0/",
            "https://100.100.100.100/",
            "https://169.254.169.254/latest",
            "https://224.0.0.1/",
            "ftp://x",
        ] {
            assert!(check(bad, false).is_err(), "{bad}");
        }
        assert!(check("https://shop.example.com/wp-json", false).is_ok());
        assert!(check("http://127.0.0.1:9000", true).is_ok());
        assert!(check("ftp://127.0.0.1", true).is_err());
    }
}
