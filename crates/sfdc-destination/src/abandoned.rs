//! [`AbandonedCreate`]: a create a dropped `send` future had sent without reading its answer.
//!
//! While a send runs, the creates it has sent and not yet answered are registered on its
//! outcome sink; when the send future is dropped mid-flight (a pipeline's timeout, a
//! cancelled task), those left are moved to the destination's list, read with
//! [`crate::Destination::take_abandoned`]. A send that completes leaves nothing there.

use serde::Serialize;
use serde_json::Value;
use sfdc_actions::ActionKind;

/// A create that may have committed: sent by a `send` whose future was dropped before the
/// answer was read.
///
/// How to finish it: send the event again through a destination whose subscription can find
/// the record (an upsert by record matchers updates the record if the create committed), or,
/// with an idempotency key, just send it again (it is an upsert by the key: exactly once).
/// A plain create (no matchers, no key) resent blindly may duplicate the record: look it up
/// first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct AbandonedCreate {
    /// Index of the event in the dropped batch.
    pub index: usize,
    /// The event's `messageId`, if it had one.
    pub message_id: Option<String>,
    /// Index of the subscription (as in [`crate::ActionOutcome::subscription`]).
    pub subscription: usize,
    /// The subscription's action.
    pub action: ActionKind,
    /// The object the record was created in.
    pub object: String,
    /// The idempotency key field and value, for a create that has one (sent as an upsert by
    /// that key: safe to send again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<(String, Value)>,
    /// `true` for a row of a Bulk API insert job (the job id was not known yet).
    pub bulk: bool,
}
