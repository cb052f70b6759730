//! Running one job per database with bounded parallelism. Each database
//! gets its own connection, lock and transactions, exactly as in a single
//! run; a failure in one does not stop the others unless asked to.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::targets::FanoutTarget;

/// What happened on one database.
#[derive(Debug)]
pub(crate) struct Outcome<T> {
    /// Index into the targets.
    pub index: usize,
    pub elapsed: Duration,
    /// `None` when the run stopped (`--fail-fast`) before reaching it.
    pub result: Option<Result<T, String>>,
}

/// Runs `job` on every target, at most `parallel` at a time (each worker
/// holds one connection at a time, so connections and memory are bounded by
/// `parallel`, not by the number of targets). Each worker has a state `S`
/// of its own, passed to each of its jobs and dropped when it ends (the
/// connection it reuses across the schemas of one database). `on_done` is
/// called on the calling thread as each target finishes. Errors come back
/// as text with the target's secrets removed.
pub(crate) fn run_all<T: Send, E: std::fmt::Display, S: Default>(
    targets: &[FanoutTarget],
    parallel: usize,
    fail_fast: bool,
    job: impl Fn(&mut S, &FanoutTarget) -> Result<T, E> + Sync,
    mut on_done: impl FnMut(&FanoutTarget, &Outcome<T>),
) -> Vec<Outcome<T>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let (sender, receiver) = mpsc::channel::<Outcome<T>>();
    let mut outcomes: Vec<Outcome<T>> = Vec::with_capacity(targets.len());
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, targets.len().max(1)) {
            let sender = sender.clone();
            let (next, stop, job) = (&next, &stop, &job);
            scope.spawn(move || {
                let mut state = S::default();
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(target) = targets.get(index) else {
                        break;
                    };
                    let started = Instant::now();
                    let result = match stop.load(Ordering::SeqCst) {
                        true => None,
                        false => {
                            Some(job(&mut state, target).map_err(|e| target.redact(&e.to_string())))
                        }
                    };
                    if fail_fast && matches!(result, Some(Err(_))) {
                        stop.store(true, Ordering::SeqCst);
                    }
                    let outcome = Outcome {
                        index,
                        elapsed: started.elapsed(),
                        result,
                    };
                    if sender.send(outcome).is_err() {
                        break;
                    }
                }
            });
        }
        drop(sender);
        for outcome in receiver {
            on_done(&targets[outcome.index], &outcome);
            outcomes.push(outcome);
        }
    });
    outcomes.sort_by_key(|o| o.index);
    outcomes
}

#[cfg(test)]
mod tests {
    use std::sync::{Condvar, Mutex};

    use super::*;

    fn targets(n: usize) -> Vec<FanoutTarget> {
        (0..n)
            .map(|i| FanoutTarget::from_flag(&format!("db{i}.db")).unwrap())
            .collect()
    }

    /// Counts jobs running at once; a job waits (bounded) until a second
    /// one runs beside it, so a run that never overlaps shows as peak 1.
    struct Overlap {
        running: Mutex<usize>,
        changed: Condvar,
        peak: AtomicUsize,
    }

    impl Overlap {
        fn job(&self) {
            let mut running = self.running.lock().unwrap();
            *running += 1;
            self.peak.fetch_max(*running, Ordering::SeqCst);
            self.changed.notify_all();
            let deadline = Instant::now() + Duration::from_secs(5);
            while self.peak.load(Ordering::SeqCst) < 2 && Instant::now() < deadline {
                running = self
                    .changed
                    .wait_timeout(running, Duration::from_millis(50))
                    .unwrap()
                    .0;
            }
            *running -= 1;
        }
    }

    #[test]
    fn runs_every_target_several_at_once_and_never_more_than_asked() {
        let targets = targets(20);
        let overlap = Overlap {
            running: Mutex::new(0),
            changed: Condvar::new(),
            peak: AtomicUsize::new(0),
        };
        let mut seen = 0;
        let outcomes = run_all(
            &targets,
            3,
            false,
            |_: &mut (), t| {
                overlap.job();
                match t.label.as_str() {
                    "db7.db" => Err("boom"),
                    _ => Ok(t.label.len()),
                }
            },
            |_, _| seen += 1,
        );
        assert_eq!(seen, 20);
        assert!(outcomes.iter().enumerate().all(|(i, o)| o.index == i));
        let peak = overlap.peak.load(Ordering::SeqCst);
        assert!(
            (2..=3).contains(&peak),
            "peak {peak}: more than one at once, at most 3"
        );
        assert_eq!(
            outcomes
                .iter()
                .filter(|o| matches!(o.result, Some(Err(_))))
                .count(),
            1
        );
    }

    #[test]
    fn fail_fast_skips_the_rest() {
        let targets = targets(10);
        let outcomes = run_all(
            &targets,
            1,
            true,
            |_: &mut (), t| match t.label.as_str() {
                "db2.db" => Err("boom"),
                _ => Ok(()),
            },
            |_, _| {},
        );
        assert!(outcomes[..2]
            .iter()
            .all(|o| matches!(o.result, Some(Ok(())))));
        assert!(matches!(outcomes[2].result, Some(Err(_))));
        assert!(
            outcomes[3..].iter().all(|o| o.result.is_none()),
            "skipped after the failure"
        );
    }
}
