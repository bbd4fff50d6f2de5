//! Fast maps for the emulator's internal tables (schema names, interned field names, value
//! indexes, SOQL `IN` sets), hashed with FNV-1a from the `fnv` crate: SipHash costs more than the
//! lookups it serves on these short keys. FNV-1a is not collision-resistant against chosen keys;
//! the emulator serves loopback tests and benchmarks, not untrusted traffic.

/// A `HashMap` hashed with FNV-1a.
pub(crate) type FastMap<K, V> = fnv::FnvHashMap<K, V>;

/// A `HashSet` hashed with FNV-1a.
pub(crate) type FastSet<T> = fnv::FnvHashSet<T>;
