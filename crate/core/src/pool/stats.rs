//! Pool statistics: counters per slot and wait/run-time histograms (HdrHistogram), and
//! [`Pool::stats`], the snapshot of them.

use std::time::Duration;

use hdrhistogram::Histogram;

use super::Pool;
use crate::sync::atomic::Ordering;
use crate::sync::lock;

/// A summary of a duration distribution, in milliseconds (two significant digits: HdrHistogram).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    /// How many durations were recorded.
    pub count: u64,
    /// The mean.
    pub mean: f64,
    /// The standard deviation.
    pub stddev: f64,
    /// The shortest.
    pub min: f64,
    /// The median.
    pub p50: f64,
    /// The 75th percentile.
    pub p75: f64,
    /// The 90th percentile.
    pub p90: f64,
    /// The 95th percentile.
    pub p95: f64,
    /// The 99th percentile.
    pub p99: f64,
    /// The 99.9th percentile.
    pub p999: f64,
    /// The longest.
    pub max: f64,
}

/// Counters of one worker slot (all its incarnations).
#[derive(Clone, Debug, Default)]
pub struct SlotStats {
    /// The slot.
    pub index: usize,
    /// Tasks that completed.
    pub completed: u64,
    /// Tasks that failed.
    pub failed: u64,
    /// Tasks it stole from other workers' deques.
    pub stolen: u64,
    /// Tasks handed to it and not completed yet.
    pub running: usize,
    /// Times its worker died and was replaced.
    pub restarts: u64,
    /// Share of the pool's lifetime this slot spent running tasks.
    pub busy: f64,
}

/// A snapshot of a pool's counters and histograms.
#[derive(Clone, Debug, Default)]
pub struct PoolStats {
    /// Worker slots.
    pub threads: usize,
    /// Tasks waiting to be handed to a worker.
    pub queued: usize,
    /// Tasks handed to workers and not completed yet.
    pub running: usize,
    /// Tasks that completed.
    pub completed: u64,
    /// Tasks that failed.
    pub failed: u64,
    /// Tasks stolen between workers.
    pub stolen: u64,
    /// Mean share of the pool's lifetime the slots spent running tasks.
    pub utilization: f64,
    /// How long tasks waited before a worker took them.
    pub wait: Percentiles,
    /// How long tasks ran.
    pub run: Percentiles,
    /// Per slot.
    pub slots: Vec<SlotStats>,
}

pub(crate) struct Histograms {
    wait: Histogram<u64>,
    run: Histogram<u64>,
}

fn new_hist() -> Histogram<u64> {
    // Microseconds from 1 µs to 1 hour, 2 significant digits.
    Histogram::new_with_bounds(1, 3_600_000_000, 2).expect("valid histogram bounds")
}

fn micros(d: Duration) -> u64 {
    (d.as_micros() as u64).clamp(1, 3_600_000_000)
}

fn percentiles(h: &Histogram<u64>) -> Percentiles {
    if h.is_empty() {
        return Percentiles::default();
    }
    let ms = |v: u64| v as f64 / 1e3;
    let q = |quantile: f64| ms(h.value_at_quantile(quantile));
    Percentiles {
        count: h.len(),
        mean: h.mean() / 1e3,
        stddev: h.stdev() / 1e3,
        min: ms(h.min()),
        p50: q(0.5),
        p75: q(0.75),
        p90: q(0.9),
        p95: q(0.95),
        p99: q(0.99),
        p999: q(0.999),
        max: ms(h.max()),
    }
}

impl Histograms {
    pub(crate) fn new() -> Self {
        Self {
            wait: new_hist(),
            run: new_hist(),
        }
    }
    pub(crate) fn record_waits(&mut self, waits: &[Duration]) {
        for w in waits {
            self.wait.saturating_record(micros(*w));
        }
    }
    pub(crate) fn record_runs(&mut self, runs: &[Duration]) {
        for r in runs {
            self.run.saturating_record(micros(*r));
        }
    }
    pub(crate) fn wait(&self) -> Percentiles {
        percentiles(&self.wait)
    }
    pub(crate) fn run(&self) -> Percentiles {
        percentiles(&self.run)
    }
}

impl Pool {
    /// A snapshot of the counters and histograms.
    pub fn stats(&self) -> PoolStats {
        let elapsed = self.started.elapsed().as_nanos().max(1) as f64;
        let slots: Vec<SlotStats> = self
            .slots
            .iter()
            .enumerate()
            .map(|(i, s)| SlotStats {
                index: i,
                completed: s.stats.completed.load(Ordering::Relaxed),
                failed: s.stats.failed.load(Ordering::Relaxed),
                stolen: s.stats.stolen.load(Ordering::Relaxed),
                running: lock(&s.outstanding).len(),
                restarts: s.stats.restarts.load(Ordering::Relaxed),
                busy: s.stats.busy_ns.load(Ordering::Relaxed) as f64 / elapsed,
            })
            .collect();
        let hist = lock(&self.hist);
        PoolStats {
            threads: self.slots.len(),
            queued: self.queued(),
            running: slots.iter().map(|s| s.running).sum(),
            completed: slots.iter().map(|s| s.completed).sum(),
            failed: slots.iter().map(|s| s.failed).sum(),
            stolen: slots.iter().map(|s| s.stolen).sum(),
            utilization: slots.iter().map(|s| s.busy).sum::<f64>() / self.slots.len() as f64,
            wait: hist.wait(),
            run: hist.run(),
            slots,
        }
    }
}
