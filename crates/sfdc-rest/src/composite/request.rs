//! [`CompositeRequest`]: up to 25 subrequests, at most 5 of them heavy, and the call's flags.

use serde::Serialize;
use serde_json::value::RawValue;

use super::{COMPOSITE_MAX_HEAVY, COMPOSITE_MAX_SUBREQUESTS, Subrequest};
use crate::error::{Error, Result};
use crate::retry::Idempotency;

/// A Composite request being assembled: up to [`COMPOSITE_MAX_SUBREQUESTS`] subrequests, at
/// most [`COMPOSITE_MAX_HEAVY`] of them sObject Collections or query operations, reference ids
/// unique. [`CompositeRequest::push`] refuses anything that would break those rules, so a
/// request that was built is one Salesforce accepts.
///
/// Defaults: `allOrNone` false (each subrequest commits on its own); `collateSubrequests`
/// left to the server (true from API v49: Salesforce may then run independent subrequests in
/// any order; set it to false when their order matters).
#[derive(Debug, Clone, Default)]
pub struct CompositeRequest {
    all_or_none: bool,
    collate_subrequests: Option<bool>,
    subrequests: Vec<Subrequest>,
}

impl CompositeRequest {
    /// Returns an empty request with the defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `allOrNone`: when true, one failed subrequest rolls back all of them (each is then
    /// reported with `PROCESSING_HALTED`).
    #[must_use]
    pub fn all_or_none(mut self, all_or_none: bool) -> Self {
        self.all_or_none = all_or_none;
        self
    }

    /// Sets `collateSubrequests`; when false, Salesforce runs the subrequests in the given
    /// order.
    #[must_use]
    pub fn collate_subrequests(mut self, collate: bool) -> Self {
        self.collate_subrequests = Some(collate);
        self
    }

    /// Appends a subrequest.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidInput`] (and the request is unchanged) when it would be the 26th
    /// subrequest, the 6th heavy one, or repeats a reference id.
    pub fn push(&mut self, sub: Subrequest) -> Result<()> {
        if let Some(reason) = self.refusal(&sub) {
            return Err(Error::InvalidInput {
                kind: "composite subrequest",
                value: sub.reference_id().to_owned(),
                reason,
            });
        }
        self.subrequests.push(sub);
        Ok(())
    }

    /// Returns `true` when [`CompositeRequest::push`] would accept `sub`.
    pub fn fits(&self, sub: &Subrequest) -> bool {
        self.refusal(sub).is_none()
    }

    fn refusal(&self, sub: &Subrequest) -> Option<String> {
        if self.subrequests.len() >= COMPOSITE_MAX_SUBREQUESTS {
            return Some(format!(
                "a Composite request carries at most {COMPOSITE_MAX_SUBREQUESTS} subrequests"
            ));
        }
        if sub.is_heavy() && self.heavy_count() >= COMPOSITE_MAX_HEAVY {
            return Some(format!(
                "a Composite request carries at most {COMPOSITE_MAX_HEAVY} sObject Collections or query subrequests"
            ));
        }
        if self
            .subrequests
            .iter()
            .any(|s| s.reference_id() == sub.reference_id())
        {
            return Some("the reference id is already used in this request".to_owned());
        }
        None
    }

    /// Returns the number of subrequests.
    pub fn len(&self) -> usize {
        self.subrequests.len()
    }

    /// Returns `true` when there are no subrequests.
    pub fn is_empty(&self) -> bool {
        self.subrequests.is_empty()
    }

    /// Returns the number of heavy subrequests (sObject Collections or query operations).
    pub fn heavy_count(&self) -> usize {
        self.subrequests.iter().filter(|s| s.is_heavy()).count()
    }

    /// Returns the subrequests, in order.
    pub fn subrequests(&self) -> &[Subrequest] {
        &self.subrequests
    }

    /// Returns the idempotency class of the whole request, which decides its retries: the
    /// weakest of its subrequests ([`Idempotency::weakest`]). Any create makes it not
    /// idempotent (a lost answer is then outcome-unknown); only queries make it safe.
    pub fn idempotency(&self) -> Idempotency {
        self.subrequests
            .iter()
            .map(Subrequest::idempotency)
            .reduce(Idempotency::weakest)
            .unwrap_or(Idempotency::Safe)
    }

    /// Returns `allOrNone`.
    pub fn is_all_or_none(&self) -> bool {
        self.all_or_none
    }

    /// The JSON body sent, with subrequest urls under `api_root` (`/services/data/vXX.X/`);
    /// subrequest bodies are the bytes serialised when each was built.
    pub(crate) fn wire_body(&self, api_root: &str) -> WireRequest<'_> {
        WireRequest {
            all_or_none: self.all_or_none,
            collate: self.collate_subrequests,
            subrequests: self
                .subrequests
                .iter()
                .map(|s| WireSub {
                    method: s.method().as_str(),
                    url: format!("{api_root}{}", s.path()),
                    reference_id: s.reference_id(),
                    body: s.raw_body(),
                })
                .collect(),
        }
    }
}

/// The wire form of a [`CompositeRequest`].
#[derive(Serialize)]
pub(crate) struct WireRequest<'a> {
    #[serde(rename = "allOrNone")]
    all_or_none: bool,
    #[serde(rename = "collateSubrequests", skip_serializing_if = "Option::is_none")]
    collate: Option<bool>,
    #[serde(rename = "compositeRequest")]
    subrequests: Vec<WireSub<'a>>,
}

#[derive(Serialize)]
struct WireSub<'a> {
    method: &'a str,
    url: String,
    #[serde(rename = "referenceId")]
    reference_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    body: Option<&'a RawValue>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sobjects::Record;
    use serde_json::{Value, json};

    fn rec(v: Value) -> Record {
        serde_json::from_value(v).unwrap()
    }

    fn query(id: &str) -> Subrequest {
        Subrequest::query(id, "SELECT Id FROM Lead").unwrap()
    }

    fn light(id: &str) -> Subrequest {
        Subrequest::new(
            id,
            http::Method::PATCH,
            "sobjects/Lead/00Q000000000001AAA",
            Some(json!({"Company": "X"})),
            Idempotency::Idempotent,
        )
        .unwrap()
    }

    #[test]
    fn wire_body_shape() {
        let mut r = CompositeRequest::new();
        r.push(query("q")).unwrap();
        r.push(Subrequest::create_many("c", "Lead", &[rec(json!({"LastName": "A"}))]).unwrap())
            .unwrap();
        r.push(Subrequest::delete_many("d", &["00Q000000000001AAA".to_owned()]).unwrap())
            .unwrap();
        assert_eq!(
            serde_json::to_value(r.wire_body("/services/data/v62.0/")).unwrap(),
            json!({
                "allOrNone": false,
                "compositeRequest": [
                    {"method": "GET", "url": "/services/data/v62.0/query?q=SELECT+Id+FROM+Lead", "referenceId": "q"},
                    {"method": "POST", "url": "/services/data/v62.0/composite/sobjects", "referenceId": "c",
                     "body": {"allOrNone": false, "records": [{"LastName": "A", "attributes": {"type": "Lead"}}]}},
                    {"method": "DELETE", "url": "/services/data/v62.0/composite/sobjects?ids=00Q000000000001AAA&allOrNone=false", "referenceId": "d"},
                ]
            })
        );
        let r = CompositeRequest::new()
            .all_or_none(true)
            .collate_subrequests(false);
        let body = serde_json::to_value(r.wire_body("/services/data/v62.0/")).unwrap();
        assert_eq!(body["allOrNone"], true);
        assert_eq!(body["collateSubrequests"], false);
    }

    #[test]
    fn push_refuses_the_26th_and_the_6th_heavy_and_duplicates() {
        let mut r = CompositeRequest::new();
        for i in 0..5 {
            r.push(query(&format!("q{i}"))).unwrap();
        }
        assert_eq!(r.heavy_count(), 5);
        assert!(!r.fits(&query("q5")));
        let err = r.push(query("q5")).unwrap_err();
        assert!(matches!(err, Error::InvalidInput { .. }), "{err:?}");
        assert_eq!(r.len(), 5);
        // Light subrequests still fit, up to 25 in all.
        for i in 0..20 {
            r.push(light(&format!("u{i}"))).unwrap();
        }
        assert_eq!(r.len(), 25);
        assert!(!r.fits(&light("u20")));
        assert!(r.push(light("u20")).is_err());
        assert_eq!(r.len(), 25);

        let mut r = CompositeRequest::new();
        r.push(light("same")).unwrap();
        assert!(!r.fits(&light("same")));
        assert!(r.push(light("same")).is_err());
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn idempotency_is_the_weakest() {
        let mut r = CompositeRequest::new();
        assert!(r.is_empty());
        r.push(query("q1")).unwrap();
        r.push(query("q2")).unwrap();
        assert_eq!(r.idempotency(), Idempotency::Safe);
        r.push(light("u")).unwrap();
        assert_eq!(r.idempotency(), Idempotency::Idempotent);
        r.push(Subrequest::create_many("c", "Lead", &[rec(json!({"LastName": "A"}))]).unwrap())
            .unwrap();
        assert_eq!(r.idempotency(), Idempotency::NotIdempotent);
    }
}
