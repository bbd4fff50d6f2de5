//! Separate write calls run at the same time, as on a real org: two Composite calls without
//! `allOrNone` are inside the org's transaction gate together, all-or-none calls one after
//! the other. Counted with the emulator's gauges and the per-record cost on Tokio's paused
//! (virtual) clock, never with wall time.

use std::time::Duration;

use serde_json::{Value, json};
use sfdc_emulator::EmulatorConfig;

use crate::support::{V, start_with};

/// A Composite call with one Collections create of two Accounts.
fn two_accounts(all_or_none: bool, names: [&str; 2]) -> Value {
    let records: Vec<Value> = names
        .iter()
        .map(|n| json!({"attributes": {"type": "Account"}, "Name": n}))
        .collect();
    json!({"allOrNone": all_or_none, "compositeRequest": [{
        "method": "POST",
        "url": format!("/services/data/v{V}/composite/sobjects"),
        "referenceId": "w0",
        "body": {"records": records},
    }]})
}

/// An hour per record, far above any other timer: the virtual time elapsed counts the
/// records processed one after another.
#[tokio::test(start_paused = true)]
async fn two_composite_write_calls_overlap_unless_all_or_none() {
    const COST: Duration = Duration::from_secs(3600);
    let mut cfg = EmulatorConfig::default();
    cfg.record_cost = COST;
    let ctx = start_with(cfg).await;

    for (all_or_none, peak, hours) in [(false, 2, 2), (true, 1, 4)] {
        let tag = if all_or_none { "T" } else { "F" };
        let a = two_accounts(all_or_none, [&format!("{tag}A1"), &format!("{tag}A2")]);
        let b = two_accounts(all_or_none, [&format!("{tag}B1"), &format!("{tag}B2")]);
        ctx.emu.reset_peak_concurrent_requests();
        let before = tokio::time::Instant::now();
        let (ra, rb) = tokio::join!(ctx.post("composite", &a), ctx.post("composite", &b));
        for r in [&ra, &rb] {
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(
                r.body["compositeResponse"][0]["httpStatusCode"], 200,
                "{}",
                r.text
            );
        }
        assert_eq!(
            ctx.emu.peak_concurrent_requests(),
            2,
            "both calls in flight"
        );
        assert_eq!(
            ctx.emu.peak_concurrent_transactions(),
            peak,
            "allOrNone {all_or_none}: calls inside the transaction gate at once"
        );
        assert_eq!(
            before.elapsed().as_secs() / 3600,
            hours,
            "allOrNone {all_or_none}: records costed one after another"
        );
    }
    assert_eq!(ctx.emu.records("Account").len(), 8);
}
