//! Reconnect delays: exponential backoff with full jitter.
//!
//! `delay = random(0, min(max, min_delay * 2^(attempt-1)))`, floored at `min_delay`
//! so that a jitter near zero never turns into a reconnect storm. The random number is
//! an argument; this module never reads a clock or a random source.

/// Backoff bounds, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    /// The smallest delay, and the base of the exponent.
    pub min_delay_ms: f64,
    /// The largest delay.
    pub max_delay_ms: f64,
}

impl Backoff {
    /// The delay before reconnect attempt `attempt` (1-based), given `jitter` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, jitter: f64) -> f64 {
        let exp = attempt.saturating_sub(1).min(31);
        let ceiling = (self.min_delay_ms * f64::from(1u32 << exp)).min(self.max_delay_ms);
        let jitter = jitter.clamp(0.0, 1.0);
        (ceiling * jitter).max(self.min_delay_ms).min(self.max_delay_ms)
    }
}

/// A small xorshift generator, so the core's randomness is seeded and reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed; a zero seed is replaced by a fixed odd constant.
    pub fn new(seed: u64) -> Rng {
        Rng(if seed == 0 { 0x9E37_79B9_7F4A_7C15 } else { seed })
    }

    /// The next number in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        (x >> 11) as f64 / (1u64 << 53) as f64
    }
}
