//! Salesforce record ids: 15-character case-sensitive ids and their 18-character
//! case-safe form (a 3-character checksum of the upper-case positions).

const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The 3-character case-safe suffix of a 15-character id.
pub(crate) fn checksum(id15: &[u8]) -> [u8; 3] {
    let mut out = [b'A'; 3];
    for (chunk_no, chunk) in id15.chunks(5).take(3).enumerate() {
        let mut bits = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        out[chunk_no] = SUFFIX[bits];
    }
    out
}

/// Normalises a 15- or 18-character id to its 18-character form.
///
/// Returns `None` when the text is not an id: wrong length, a non-alphanumeric
/// character, or an 18-character id whose suffix does not match its first 15 characters.
pub(crate) fn to_18(id: &str) -> Option<String> {
    let b = id.as_bytes();
    if !(b.len() == 15 || b.len() == 18) || !b.iter().all(u8::is_ascii_alphanumeric) {
        return None;
    }
    let sum = checksum(&b[..15]);
    if b.len() == 18 {
        // Salesforce accepts the suffix in any case.
        if !b[15..].eq_ignore_ascii_case(&sum) {
            return None;
        }
        let mut s = String::with_capacity(18);
        s.push_str(&id[..15]);
        s.extend(sum.iter().map(|&c| c as char));
        return Some(s);
    }
    let mut s = String::with_capacity(18);
    s.push_str(id);
    s.extend(sum.iter().map(|&c| c as char));
    Some(s)
}

/// Builds the 18-character id number `n` for key prefix `prefix` (3 characters).
///
/// Layout: prefix, `"Em0"` (instance/reserved), 9 base-62 digits of `n`, checksum.
/// Ids of one org sort in creation order.
pub(crate) fn make_id(prefix: &str, n: u64) -> String {
    let mut body = [b'0'; 15];
    for (dst, src) in body.iter_mut().zip(prefix.bytes().take(3)) {
        *dst = src;
    }
    body[3] = b'E';
    body[4] = b'm';
    body[5] = b'0';
    let mut v = n;
    for slot in body[6..15].iter_mut().rev() {
        *slot = BASE62[(v % 62) as usize];
        v /= 62;
    }
    let sum = checksum(&body);
    let mut s = String::with_capacity(18);
    s.extend(body.iter().map(|&c| c as char));
    s.extend(sum.iter().map(|&c| c as char));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_checksum_from_salesforce_docs() {
        // Pair from the REST docs: 001D000000IqhSL -> 001D000000IqhSLIAZ.
        assert_eq!(
            to_18("001D000000IqhSL").as_deref(),
            Some("001D000000IqhSLIAZ")
        );
        assert_eq!(
            to_18("001D000000IqhSLIAZ").as_deref(),
            Some("001D000000IqhSLIAZ")
        );
        assert_eq!(to_18("001D000000IqhSLIAA"), None);
        assert_eq!(to_18("001xx"), None);
        assert_eq!(to_18("001D000000Iqh-L"), None);
    }

    #[test]
    fn made_ids_are_valid_and_ordered() {
        let a = make_id("00Q", 1);
        let b = make_id("00Q", 62);
        assert_eq!(a.len(), 18);
        assert!(a.starts_with("00Q"));
        assert_eq!(to_18(&a).as_deref(), Some(a.as_str()));
        assert_eq!(to_18(&a[..15]).as_deref(), Some(a.as_str()));
        assert!(a < b);
    }
}
