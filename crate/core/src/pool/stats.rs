//! Pool statistics: counters per slot and wait/run-time histograms (HdrHistogram).

use std::time::Duration;

use hdrhistogram::Histogram;

/// Percentiles of a duration distribution, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Percentiles {
    pub count: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

#[derive(Clone, Debug, Default)]
pub struct SlotStats {
    pub index: usize,
    pub completed: u64,
    pub failed: u64,
    pub stolen: u64,
    pub running: usize,
    pub restarts: u64,
    /// Share of the pool's lifetime this slot spent running tasks.
    pub busy: f64,
}

#[derive(Clone, Debug, Default)]
pub struct PoolStats {
    pub threads: usize,
    pub queued: usize,
    pub running: usize,
    pub completed: u64,
    pub failed: u64,
    pub stolen: u64,
    pub utilization: f64,
    pub wait: Percentiles,
    pub run: Percentiles,
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
    Percentiles {
        count: h.len(),
        p50: ms(h.value_at_quantile(0.5)),
        p90: ms(h.value_at_quantile(0.9)),
        p99: ms(h.value_at_quantile(0.99)),
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
