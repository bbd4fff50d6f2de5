//! One long-lived thread per ingest for the blocking parts of result correlation.
//!
//! Building the index from the spool file and parsing result CSVs is blocking work. Running
//! each step in `tokio::task::spawn_blocking` put successive jobs on whichever pool thread was
//! free, and glibc gives each thread its own malloc arena that keeps freed memory: the client's
//! peak grew with the number of jobs (96 MB for 4 jobs of 250,000 rows). Every step of every
//! job of one ingest now runs on the same thread, so each job reuses the memory the previous
//! one freed.

use std::sync::mpsc;

use crate::{Error, Result};

type Task = Box<dyn FnOnce() + Send>;

/// A dedicated thread, started on first use and ended when the worker is dropped.
#[derive(Debug, Default)]
pub(crate) struct Worker {
    sender: Option<mpsc::Sender<Task>>,
}

impl Worker {
    /// Runs `f` on the worker thread and waits (asynchronously) for its result. The current
    /// tracing span is entered on the thread, so events logged by `f` keep their context.
    ///
    /// # Errors
    /// [`Error::Spool`] if the thread cannot be started or stopped before returning (`f`
    /// panicked).
    pub(crate) async fn run<F, T>(&mut self, f: F) -> Result<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let span = tracing::Span::current();
        let mut task: Task = Box::new(move || {
            let _entered = span.enter();
            // The receiver only disappears when the ingest was dropped; nothing to report.
            let _ = tx.send(f());
        });
        // A thread that died (a panicking task) is replaced.
        for _ in 0..2 {
            let sender = match &self.sender {
                Some(sender) => sender,
                None => self.sender.insert(spawn()?),
            };
            match sender.send(task) {
                Ok(()) => {
                    return rx.await.map_err(|_| {
                        // The task was dropped unfinished: the thread panicked and is ending.
                        // Forget it, so the next task starts a new thread instead of racing
                        // the dying one's receiver.
                        self.sender = None;
                        stopped()
                    });
                }
                Err(mpsc::SendError(back)) => {
                    task = back;
                    self.sender = None;
                }
            }
        }
        Err(stopped())
    }
}

fn spawn() -> Result<mpsc::Sender<Task>> {
    let (sender, receiver) = mpsc::channel::<Task>();
    std::thread::Builder::new()
        .name("sfdc-bulk-results".to_owned())
        .spawn(move || {
            while let Ok(task) = receiver.recv() {
                task();
            }
        })
        .map_err(Error::spool)?;
    Ok(sender)
}

fn stopped() -> Error {
    Error::spool(std::io::Error::other(
        "the result-correlation thread stopped before finishing its task",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_task_runs_on_the_same_thread() {
        let mut worker = Worker::default();
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.push(worker.run(|| std::thread::current().id()).await.unwrap());
        }
        assert_ne!(ids[0], std::thread::current().id());
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
    }

    #[tokio::test]
    async fn a_panicking_task_is_an_error_and_the_thread_is_replaced() {
        let mut worker = Worker::default();
        let first = worker.run(|| std::thread::current().id()).await.unwrap();
        let err = worker.run(|| -> u8 { panic!("boom") }).await.unwrap_err();
        assert!(err.to_string().contains("correlation thread"), "{err}");
        let next = worker.run(|| std::thread::current().id()).await.unwrap();
        assert_ne!(first, next, "a new thread took over");
        assert_eq!(worker.run(|| 7).await.unwrap(), 7);
    }
}
