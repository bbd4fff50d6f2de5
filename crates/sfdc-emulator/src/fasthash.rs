//! A fast hasher for the emulator's internal maps (schema names, interned field names, value
//! indexes, SOQL `IN` sets): 64-bit FNV-1a. The standard SipHash costs more than the lookups
//! it serves on these short keys. FNV-1a is not collision-resistant against chosen keys;
//! the emulator serves loopback tests and benchmarks, not untrusted traffic.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasherDefault, Hasher};

/// 64-bit FNV-1a.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fnv {
    fn write(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// A `HashMap` with the [`Fnv`] hasher.
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<Fnv>>;

/// A `HashSet` with the [`Fnv`] hasher.
pub(crate) type FastSet<T> = HashSet<T, BuildHasherDefault<Fnv>>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn equal_keys_hash_equal_and_the_offset_basis_is_fnv_1a() {
        let b = BuildHasherDefault::<Fnv>::default();
        assert_eq!(b.hash_one("Email"), b.hash_one(String::from("Email")));
        assert_ne!(b.hash_one("Email"), b.hash_one("email"));
        // FNV-1a of the empty input is the offset basis; of "a" the published 0xaf63dc4c8601ec8c.
        let mut h = Fnv::default();
        assert_eq!(h.finish(), 0xcbf2_9ce4_8422_2325);
        h.write(b"a");
        assert_eq!(h.finish(), 0xaf63_dc4c_8601_ec8c);
    }
}
