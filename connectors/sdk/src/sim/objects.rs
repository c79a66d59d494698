//! What a target simulator holds: objects numbered in creation order, findable by the key
//! the sink made them unique with (an idempotency key, an external id), with the create /
//! update counts `/_sim/received` reports.

use super::{Received, ReceivedObject};
use std::collections::{BTreeMap, HashMap};
use time::OffsetDateTime;

pub struct Entry<T> {
    num: u64,
    key: Option<String>,
    pub body: T,
    /// Voided, cancelled or deleted on the platform (kept: `/_sim/received` still lists it).
    pub cancelled: bool,
    pub created_at: OffsetDateTime,
    pub modified_at: OffsetDateTime,
    pub updates: u64,
}

impl<T> Entry<T> {
    /// 1, 2, … in creation order.
    pub fn num(&self) -> u64 {
        self.num
    }

    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }
}

pub struct ObjectBook<T> {
    by_num: BTreeMap<u64, Entry<T>>,
    by_key: HashMap<String, u64>,
    next: u64,
}

impl<T> Default for ObjectBook<T> {
    fn default() -> Self {
        Self {
            by_num: BTreeMap::new(),
            by_key: HashMap::new(),
            next: 0,
        }
    }
}

impl<T> ObjectBook<T> {
    pub fn len(&self) -> usize {
        self.by_num.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_num.is_empty()
    }

    /// Stores a new object under `key` (which the platform has checked is free) and
    /// returns its number.
    pub fn insert(&mut self, key: Option<String>, body: T, now: OffsetDateTime) -> u64 {
        self.next += 1;
        let num = self.next;
        if let Some(k) = &key {
            self.by_key.insert(k.clone(), num);
        }
        self.by_num.insert(
            num,
            Entry {
                num,
                key,
                body,
                cancelled: false,
                created_at: now,
                modified_at: now,
                updates: 0,
            },
        );
        num
    }

    pub fn num_of(&self, key: &str) -> Option<u64> {
        self.by_key.get(key).copied()
    }

    pub fn get(&self, num: u64) -> Option<&Entry<T>> {
        self.by_num.get(&num)
    }

    pub fn get_mut(&mut self, num: u64) -> Option<&mut Entry<T>> {
        self.by_num.get_mut(&num)
    }

    /// Replaces an object's body: one more update.
    pub fn update(&mut self, num: u64, body: T, now: OffsetDateTime) -> Option<&Entry<T>> {
        let e = self.by_num.get_mut(&num)?;
        e.body = body;
        e.updates += 1;
        e.modified_at = now;
        Some(e)
    }

    /// Every object, in creation order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry<T>> {
        self.by_num.values()
    }

    /// `/_sim/received`: each object as the platform describes it.
    pub fn received(&self, describe: impl Fn(&Entry<T>) -> ReceivedObject) -> Received {
        Received::new(self.iter().map(describe).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_numbered_found_by_key_and_counted() {
        let t0 = OffsetDateTime::UNIX_EPOCH;
        let mut b: ObjectBook<&str> = ObjectBook::default();
        let a = b.insert(Some("ka".into()), "A", t0);
        let c = b.insert(None, "C", t0);
        assert_eq!((a, c), (1, 2));
        assert_eq!(b.num_of("ka"), Some(1));
        let later = t0 + time::Duration::hours(1);
        assert_eq!(b.update(a, "A2", later).map(|e| e.updates), Some(1));
        assert!(b.update(9, "x", later).is_none());
        let r = b.received(|e| ReceivedObject {
            external_order_id: e.body.to_string(),
            object_key: e.key().unwrap_or_default().to_string(),
            external_ref: e.num().to_string(),
            updates: e.updates,
            creates: 1,
            ..Default::default()
        });
        assert_eq!(r.count, 2);
        assert_eq!(r.objects[0].external_order_id, "A2");
        assert_eq!((r.objects[0].updates, r.objects[1].updates), (1, 0));
        assert_eq!(b.get(a).map(|e| e.modified_at), Some(later));
    }
}
