//! `client --phases`: a tracing layer that times the library's spans (wall time from creation
//! to close, and busy time: CPU on the span's thread while entered), then prints per span name
//! the count and the mean per batch, and the timeline of the last batch, to stderr.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tracing::span::{Attributes, Id};
use tracing::{Level, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// One closed span.
#[derive(Debug, Clone)]
struct Closed {
    name: &'static str,
    started: Instant,
    ended: Instant,
    busy: Duration,
}

/// Timing kept in a span's extensions while it lives.
struct Timing {
    started: Instant,
    entered: Option<Instant>,
    busy: Duration,
}

/// The layer and what it collected.
#[derive(Clone, Default)]
pub(crate) struct Phases {
    closed: Arc<Mutex<Vec<Closed>>>,
}

impl<S> Layer<S> for Phases
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn on_new_span(&self, _: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Timing {
                started: Instant::now(),
                entered: None,
                busy: Duration::ZERO,
            });
        }
    }

    fn on_enter(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(t) = span.extensions_mut().get_mut::<Timing>()
        {
            t.entered = Some(Instant::now());
        }
    }

    fn on_exit(&self, id: &Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(t) = span.extensions_mut().get_mut::<Timing>()
            && let Some(at) = t.entered.take()
        {
            t.busy += at.elapsed();
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(t) = span.extensions().get::<Timing>()
        {
            let closed = Closed {
                name: span.name(),
                started: t.started,
                ended: Instant::now(),
                busy: t.busy,
            };
            self.closed.lock().unwrap().push(closed);
        }
    }
}

impl Phases {
    /// Installs the layer (spans at debug level and above) as the global subscriber.
    pub(crate) fn install() -> Phases {
        let phases = Phases::default();
        let subscriber = tracing_subscriber::registry()
            .with(tracing_subscriber::filter::LevelFilter::from_level(
                Level::DEBUG,
            ))
            .with(phases.clone());
        tracing::subscriber::set_global_default(subscriber).unwrap();
        phases
    }

    /// Prints the per-name means over `batches` batches and the last batch's timeline.
    pub(crate) fn print(&self, batches: usize) {
        let closed = self.closed.lock().unwrap().clone();
        let mut names: Vec<&'static str> = Vec::new();
        for c in &closed {
            if !names.contains(&c.name) {
                names.push(c.name);
            }
        }
        let per = batches.max(1) as f64;
        eprintln!("| span | count per batch | wall ms per batch | busy ms per batch |");
        eprintln!("|---|---:|---:|---:|");
        for name in names {
            let of: Vec<&Closed> = closed.iter().filter(|c| c.name == name).collect();
            let wall: f64 = of
                .iter()
                .map(|c| (c.ended - c.started).as_secs_f64() * 1e3)
                .sum();
            let busy: f64 = of.iter().map(|c| c.busy.as_secs_f64() * 1e3).sum();
            eprintln!(
                "| {name} | {:.1} | {:.2} | {:.2} |",
                of.len() as f64 / per,
                wall / per,
                busy / per
            );
        }
        let Some(last) = closed
            .iter()
            .filter(|c| c.name == "sfdc_destination.send")
            .max_by_key(|c| c.started)
        else {
            return;
        };
        eprintln!();
        eprintln!("Last batch, ms from its send span's start: start → end (busy)");
        let mut inside: Vec<&Closed> = closed
            .iter()
            .filter(|c| c.started >= last.started && c.ended <= last.ended)
            .collect();
        inside.sort_by_key(|c| c.started);
        for c in inside {
            let ms = |t: Instant| (t - last.started).as_secs_f64() * 1e3;
            eprintln!(
                "  {:>8.2} → {:>8.2} ({:>6.2}) {}",
                ms(c.started),
                ms(c.ended),
                c.busy.as_secs_f64() * 1e3,
                c.name
            );
        }
    }
}
