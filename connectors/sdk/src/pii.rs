//! Buyer personal data. Kept apart from [`crate::Order`]'s serialised form: it is serialised only
//! into the encryptor, and every `Debug`/`Display` prints `[redacted]`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A value whose `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Redacted<T>(pub T);

impl<T> fmt::Debug for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> fmt::Display for Redacted<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl<T> Redacted<T> {
    pub fn expose(&self) -> &T {
        &self.0
    }
}

#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub company: Option<String>,
    pub line1: Option<String>,
    pub line2: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country_code: Option<String>,
    pub phone: Option<String>,
}

impl fmt::Debug for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Address([redacted])")
    }
}

/// Everything about the buyer we must protect. `None` means "the platform did not send it this
/// time", never "it is empty": see [`Pii::merge_newer`].
#[derive(Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Pii {
    pub buyer_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub shipping_address: Option<Address>,
    pub billing_address: Option<Address>,
    pub notes: Option<String>,
}

impl fmt::Debug for Pii {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Pii([redacted])")
    }
}

impl fmt::Display for Pii {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

impl Pii {
    pub fn is_empty(&self) -> bool {
        self.field_mask() == 0
    }

    /// One bit per present field; lets the store tell whether a refetch dropped fields without
    /// decrypting anything.
    pub fn field_mask(&self) -> i64 {
        let mut m = 0;
        for (i, present) in [
            self.buyer_name.is_some(),
            self.email.is_some(),
            self.phone.is_some(),
            self.shipping_address.is_some(),
            self.billing_address.is_some(),
            self.notes.is_some(),
        ]
        .into_iter()
        .enumerate()
        {
            if present {
                m |= 1 << i;
            }
        }
        m
    }

    /// Marketplaces drop PII on later fetches (eBay after 14/90 days, Amazon without a role):
    /// a newer copy replaces fields it carries and keeps the stored ones it lacks.
    pub fn merge_newer(&mut self, newer: Pii) {
        fn take<T>(old: &mut Option<T>, new: Option<T>) {
            if new.is_some() {
                *old = new;
            }
        }
        take(&mut self.buyer_name, newer.buyer_name);
        take(&mut self.email, newer.email);
        take(&mut self.phone, newer.phone);
        take(&mut self.shipping_address, newer.shipping_address);
        take(&mut self.billing_address, newer.billing_address);
        take(&mut self.notes, newer.notes);
    }

    /// Lower-cased, trimmed email: the input of the blind index.
    pub fn normalized_email(&self) -> Option<String> {
        self.email
            .as_deref()
            .map(|e| e.trim().to_lowercase())
            .filter(|e| !e.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canary() -> Pii {
        Pii {
            buyer_name: Some("Canary Buyer".into()),
            email: Some("canary@customer.test".into()),
            phone: Some("+15550100".into()),
            shipping_address: Some(Address {
                line1: Some("1 Canary Road".into()),
                ..Default::default()
            }),
            billing_address: None,
            notes: Some("Canary note".into()),
        }
    }

    #[test]
    fn debug_and_display_redact() {
        let p = canary();
        for s in [
            format!("{p:?}"),
            format!("{p}"),
            format!("{:?}", p.shipping_address),
            format!("{:?}", Redacted("Canary")),
        ] {
            assert!(!s.contains("Canary") && !s.contains("customer.test"), "{s}");
        }
    }

    #[test]
    fn merge_keeps_fields_the_newer_copy_lacks() {
        let mut stored = canary();
        stored.merge_newer(Pii {
            phone: Some("+15550199".into()),
            ..Default::default()
        });
        assert_eq!(stored.email.as_deref(), Some("canary@customer.test"));
        assert_eq!(stored.phone.as_deref(), Some("+15550199"));
        assert_eq!(stored.field_mask(), canary().field_mask());
    }
}
