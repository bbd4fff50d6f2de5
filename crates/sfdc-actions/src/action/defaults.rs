//! The default-mapping rule shared by every action: read the event's `traits`, and fall back to
//! its `properties`, so `identify` and `group` events (traits) and `track` events (properties)
//! fill the same fields.

use crate::mapping::Mapping;

/// `$.traits.<key>`, else `$.properties.<key>` (a blank or missing traits value falls through).
pub(super) fn traits_else_properties(key: &str) -> Option<Mapping> {
    Some(Mapping::first_of([
        format!("$.traits.{key}").as_str(),
        format!("$.properties.{key}").as_str(),
    ]))
}

/// `$.traits.address.<part>`, else `$.properties.address.<part>`.
pub(super) fn address(part: &str) -> Option<Mapping> {
    traits_else_properties(&format!("address.{part}"))
}

/// A single path, for defaults with no traits/properties pair (e.g. `$.groupId`).
pub(super) fn path(p: &str) -> Option<Mapping> {
    Some(Mapping::path(p))
}
