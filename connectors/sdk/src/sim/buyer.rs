//! Deterministic fake buyers whose PII is recognisable in leak tests: emails end in
//! `@customer.test`, names start with `Canary`.

use rand::{Rng, SeedableRng};

/// A deterministic fake buyer. Every field is a canary.
#[derive(Debug, Clone)]
pub struct FakeBuyer {
    pub first_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub address1: String,
    pub city: String,
    pub zip: String,
    pub province_code: String,
    pub country_code: String,
}

pub fn fake_buyer(seed: u64, i: u64) -> FakeBuyer {
    const FIRST: [&str; 8] = ["Ada", "Bo", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"];
    const LAST: [&str; 6] = ["Lark", "Wren", "Finch", "Robin", "Swift", "Tern"];
    let mut r = rand::rngs::StdRng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(i));
    let first = format!("Canary{}", FIRST[r.random_range(0..FIRST.len())]);
    let last = format!("Canary{}", LAST[r.random_range(0..LAST.len())]);
    FakeBuyer {
        email: format!(
            "{}.{}.{i}@customer.test",
            first.to_lowercase(),
            last.to_lowercase()
        ),
        phone: format!("+1555{:07}", r.random_range(0..10_000_000u32)),
        address1: format!("{} Canary Street", r.random_range(1..999u32)),
        city: "Canaryville".into(),
        zip: format!("{:05}", r.random_range(10000..99999u32)),
        province_code: "CA".into(),
        country_code: "US".into(),
        first_name: first,
        last_name: last,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fake_buyers_are_deterministic_canaries() {
        let a = fake_buyer(1, 5);
        assert_eq!(a.email, fake_buyer(1, 5).email);
        assert!(a.email.ends_with("@customer.test") && a.first_name.starts_with("Canary"));
        assert_ne!(a.email, fake_buyer(1, 6).email);
    }
}
