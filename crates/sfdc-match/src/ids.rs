//! Record id identity: 15-character ids are case-sensitive; the 18-character form adds a
//! 3-character suffix encoding the case of the first 15, and is itself case-insensitive.

/// Returns true for a syntactically valid 15- or 18-character record id.
pub(crate) fn looks_like_id(s: &str) -> bool {
    (s.len() == 15 || s.len() == 18) && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

const SUFFIX_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Returns the case-correct 15-character form of a record id: a 15-character id as given; an
/// 18-character id, in any case, with the case its suffix encodes. Other strings are returned
/// unchanged. Two ids name the same record exactly when their canonical forms are equal.
///
/// ```
/// use sfdc_match::canonical_id;
/// assert_eq!(canonical_id("00Q000000000001EAA"), canonical_id("00Q000000000001"));
/// assert_eq!(canonical_id("001aB0000000001qaa"), canonical_id("001AB0000000001QAA"));
/// ```
pub fn canonical_id(id: &str) -> String {
    let mut out = String::with_capacity(id.len().min(18));
    push_canonical_id(&mut out, id);
    out
}

/// Appends [`canonical_id`]`(id)` to `out`, without allocating a string of its own (for
/// callers that build keys or compare many ids through one buffer).
///
/// ```
/// use sfdc_match::push_canonical_id;
/// let mut key = String::from("lead|");
/// push_canonical_id(&mut key, "00Q000000000001EAA");
/// assert_eq!(key, "lead|00Q000000000001");
/// ```
pub fn push_canonical_id(out: &mut String, id: &str) {
    if !looks_like_id(id) {
        out.push_str(id);
        return;
    }
    let (base, suffix) = id.split_at(15);
    if suffix.is_empty() {
        out.push_str(base);
        return;
    }
    let mut upper_bits = [false; 15];
    for (block, c) in suffix.bytes().enumerate() {
        let Some(bits) = SUFFIX_ALPHABET
            .iter()
            .position(|a| *a == c.to_ascii_uppercase())
        else {
            // Not a valid suffix: the base as given is the best identity there is.
            out.push_str(base);
            return;
        };
        for (bit, slot) in upper_bits[block * 5..block * 5 + 5].iter_mut().enumerate() {
            *slot = bits & (1 << bit) != 0;
        }
    }
    out.extend(base.bytes().zip(upper_bits).map(|(b, upper)| {
        char::from(if upper {
            b.to_ascii_uppercase()
        } else {
            b.to_ascii_lowercase()
        })
    }));
}

#[cfg(test)]
pub(crate) fn to_18(id15: &str) -> String {
    let mut out = id15.to_owned();
    for block in id15.as_bytes().chunks(5) {
        let bits = block
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_uppercase())
            .fold(0usize, |acc, (i, _)| acc | 1 << i);
        out.push(char::from(SUFFIX_ALPHABET[bits]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_id_suffix() {
        // A documented example pair: 001A0000006Vm9r / 001A0000006Vm9rIAC.
        assert_eq!(to_18("001A0000006Vm9r"), "001A0000006Vm9rIAC");
        assert_eq!(canonical_id("001A0000006Vm9rIAC"), "001A0000006Vm9r");
        assert_eq!(canonical_id("001a0000006vm9riac"), "001A0000006Vm9r");
        assert_eq!(canonical_id("001A0000006Vm9r"), "001A0000006Vm9r");
        assert_ne!(canonical_id("001a0000006vm9r"), "001A0000006Vm9r");
        assert_eq!(canonical_id("not an id"), "not an id");
    }
}
