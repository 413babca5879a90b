//! How long to wait before the next connection attempt: exponential growth between a minimum
//! and a maximum, with jitter drawn afresh for every attempt, an optional retry limit, and a
//! reset once a connection has proved stable.
//!
//! [`Backoff`] is the configuration; [`BackoffSchedule`] is one client's position in it.
// Part of the pure API that simulations reach through the `unstable-machine` feature; without
// it, the client uses only some of it.
#![cfg_attr(not(feature = "unstable-machine"), allow(dead_code))]

use crate::describe::{Decimal, Millis};
use crate::Error;
use std::time::Duration;

/// The longest delay a browser timer can wait: `setTimeout` keeps its delay in a signed 32-bit
/// count of milliseconds, and a longer delay overflows and fires at once. Every duration the
/// reconnecting client turns into a timer is checked against it, so a large setting cannot
/// turn into a reconnect loop with no delay at all.
pub const MAX_TIMER_DELAY: Duration = Duration::from_millis(i32::MAX as u64);

/// How the delay of each attempt is spread out.
///
/// Jitter is what keeps a fleet of clients that lost the same server at the same moment from
/// coming back at the same moment: without it every client computes the same schedule and the
/// server, just restarted, sees all of them in the same few milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum Jitter {
    /// For the nth retry, a delay drawn uniformly between `min_delay` and the exponential
    /// ceiling `min_delay × factorⁿ` (capped at `max_delay`). The mean is close to the
    /// un-jittered schedule, but the whole fleet is spread over the window, from the first
    /// retry on. The default.
    #[default]
    Full,
    /// "Decorrelated" jitter as described by AWS: each delay is drawn uniformly between
    /// `min_delay` and three times the previous delay, capped at `max_delay`. It grows
    /// roughly like `factor = 3` whatever `factor` says (`factor` is not used), and each
    /// client's delays wander independently of its attempt count.
    Decorrelated,
    /// No randomness: `min_delay × factorⁿ⁻¹`, capped at `max_delay`. Every client with the
    /// same settings computes the same delays, so a fleet reconnects in lockstep. Useful as
    /// a baseline and for tests that need exact times; not for production.
    None,
}

/// Reconnection backoff settings.
///
/// Build it from [`Backoff::default`] and the chainable setters, then check it with
/// [`Backoff::validate`] (the reconnecting client checks it for you).
///
/// The defaults aim at one thing above all: a fleet of clients whose server restarts must not
/// come back in lockstep. Full jitter spreads every retry over a window that doubles each
/// time, so when a server returns after an outage of `T` seconds, the clients' next attempts
/// are spread over a window of about `T` (at most `max_delay`) instead of arriving together;
/// see `examples/fleet.rs` for the measured effect on 100,000 clients.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Backoff {
    /// The shortest delay before a retry. Default: 500 ms, long enough that a server refusing
    /// connections is not hammered, short enough that a blip is barely noticed. Must not be
    /// zero: a zero minimum makes every delay zero.
    pub min_delay: Duration,
    /// The longest delay before a retry. Default: 30 s, so that a client notices a returned
    /// server within half a minute, while a fleet's retries during a long outage stay spread
    /// over 30-second windows.
    pub max_delay: Duration,
    /// How much the delay ceiling grows with each retry. Default: 2. At least 1 and finite.
    pub factor: f64,
    /// How each delay is drawn. Default: [`Jitter::Full`].
    pub jitter: Jitter,
    /// How many retries in a row to make before giving up; `None` retries for ever. A
    /// successful connection that then stays up for [`stable_after`](#structfield.stable_after)
    /// starts the count again. Default: `None`, since a browser tab usually should keep
    /// trying until it is closed.
    pub max_retries: Option<u32>,
    /// How long a connection must stay open before the schedule starts again from the
    /// beginning. Default: 5 s, so that a server which accepts and at once drops connections
    /// still sees growing delays, while a connection that really worked earns a fast
    /// reconnect the next time it is lost.
    pub stable_after: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            factor: 2.0,
            jitter: Jitter::Full,
            max_retries: None,
            stable_after: Duration::from_secs(5),
        }
    }
}

impl Backoff {
    /// Sets [`min_delay`](#structfield.min_delay).
    #[must_use]
    pub fn min_delay(mut self, delay: Duration) -> Self {
        self.min_delay = delay;
        self
    }

    /// Sets [`max_delay`](#structfield.max_delay).
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// Sets [`factor`](#structfield.factor).
    #[must_use]
    pub fn factor(mut self, factor: f64) -> Self {
        self.factor = factor;
        self
    }

    /// Sets [`jitter`](#structfield.jitter).
    #[must_use]
    pub fn jitter(mut self, jitter: Jitter) -> Self {
        self.jitter = jitter;
        self
    }

    /// Sets [`max_retries`](#structfield.max_retries).
    #[must_use]
    pub fn max_retries(mut self, retries: Option<u32>) -> Self {
        self.max_retries = retries;
        self
    }

    /// Sets [`stable_after`](#structfield.stable_after).
    #[must_use]
    pub fn stable_after(mut self, period: Duration) -> Self {
        self.stable_after = period;
        self
    }

    /// Checks that the settings describe a schedule that can run in a browser.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidOption`] naming the first field that is wrong, if `min_delay` is zero
    /// or above `max_delay`, `factor` is below 1 or not finite, or a duration is longer than
    /// [`MAX_TIMER_DELAY`].
    pub fn validate(&self) -> Result<(), Error> {
        if self.min_delay.is_zero() {
            return Err(invalid(
                "min_delay",
                "must be above zero, or every retry would come at once".to_owned(),
            ));
        }
        check_timer("max_delay", self.max_delay)?;
        check_timer("stable_after", self.stable_after)?;
        if self.min_delay > self.max_delay {
            return Err(invalid(
                "min_delay",
                format!(
                    "{} is above max_delay {}",
                    Millis(self.min_delay),
                    Millis(self.max_delay)
                ),
            ));
        }
        if !self.factor.is_finite() || self.factor < 1.0 {
            return Err(invalid(
                "factor",
                format!(
                    "{} is not a finite number of at least 1",
                    Decimal(self.factor)
                ),
            ));
        }
        Ok(())
    }
}

/// An [`Error::InvalidOption`] for `option`.
pub(crate) fn invalid(option: &'static str, reason: String) -> Error {
    Error::InvalidOption { option, reason }
}

/// Checks that `duration` is above zero and fits in a browser timer: the one check for every
/// timeout a user sets.
pub(crate) fn check_positive_timer(option: &'static str, duration: Duration) -> Result<(), Error> {
    if duration.is_zero() {
        return Err(invalid(option, "must be above zero".to_owned()));
    }
    check_timer(option, duration)
}

/// Checks that `duration` fits in a browser timer.
pub(crate) fn check_timer(option: &'static str, duration: Duration) -> Result<(), Error> {
    if duration > MAX_TIMER_DELAY {
        return Err(invalid(
            option,
            format!(
                "{} is longer than a browser timer can wait ({})",
                Millis(duration),
                Millis(MAX_TIMER_DELAY)
            ),
        ));
    }
    Ok(())
}

/// One client's progress through a [`Backoff`]: how many retries it has made since the last
/// reset, and the random source of its jitter.
///
/// There is deliberately no constructor without a seed: a fixed default seed would give every
/// client of a fleet the same "random" delays, which is the lockstep jitter exists to prevent.
/// In the browser, seed it from `Math.random()`.
#[derive(Debug, Clone)]
pub struct BackoffSchedule {
    config: Backoff,
    attempt: u32,
    /// The previous delay in nanoseconds, which decorrelated jitter grows from.
    previous: f64,
    rng: SplitMix64,
}

impl BackoffSchedule {
    /// A schedule at its start, drawing its jitter from `seed`. The configuration is used as
    /// given; check it first with [`Backoff::validate`]. An unchecked one never panics, it
    /// only gives delays clamped into `[min_delay, max_delay]`.
    pub fn with_seed(config: Backoff, seed: u64) -> Self {
        let previous = nanos(config.min_delay);
        BackoffSchedule {
            config,
            attempt: 0,
            previous,
            rng: SplitMix64(seed),
        }
    }

    /// The delay before the next retry, counting it as made; `None` once
    /// [`max_retries`](Backoff#structfield.max_retries) retries have been made since the last reset.
    pub fn next_delay(&mut self) -> Option<Duration> {
        if let Some(limit) = self.config.max_retries {
            if self.attempt >= limit {
                return None;
            }
        }
        self.attempt = self.attempt.saturating_add(1);
        let min = nanos(self.config.min_delay);
        let max = nanos(self.config.max_delay).max(min);
        let exponent = i32::try_from(self.attempt).unwrap_or(i32::MAX);
        let drawn = match self.config.jitter {
            Jitter::None => min * self.config.factor.powi(exponent - 1),
            Jitter::Full => {
                let ceiling = (min * self.config.factor.powi(exponent)).min(max);
                self.uniform(min, ceiling)
            }
            Jitter::Decorrelated => self.uniform(min, self.previous * 3.0),
        };
        // `max`/`min` rather than `clamp`: they cannot panic, whatever an unchecked
        // configuration produced (NaN included).
        let delay = drawn.max(min).min(max);
        self.previous = delay;
        // The cast saturates, so no configuration can make this overflow.
        Some(Duration::from_nanos(delay as u64))
    }

    /// A delay drawn uniformly from `[0, window)`, from this schedule's random source: how a
    /// fleet spreads retries over a window rather than arriving at once.
    pub fn draw_below(&mut self, window: Duration) -> Duration {
        let drawn = self.uniform(0.0, nanos(window));
        // The cast saturates; `drawn` is below `window`, which fits.
        Duration::from_nanos(drawn as u64)
    }

    /// Starts the schedule again from its first retry, as after a stable connection.
    pub fn reset(&mut self) {
        self.attempt = 0;
        self.previous = nanos(self.config.min_delay);
    }

    /// How many retries have been made since the start or the last reset: the number of
    /// delays [`next_delay`](Self::next_delay) has handed out.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The settings this schedule follows.
    pub fn config(&self) -> &Backoff {
        &self.config
    }

    /// A number drawn uniformly from `[low, high)`; `low` when the range is empty.
    fn uniform(&mut self, low: f64, high: f64) -> f64 {
        if high <= low {
            return low;
        }
        low + (high - low) * self.rng.next_f64()
    }
}

fn nanos(duration: Duration) -> f64 {
    duration.as_nanos() as f64
}

/// SplitMix64 (Steele, Lea and Flood, 2014): one add and two multiply-xorshift rounds per
/// number. Statistically far better than delays need, fast, and any seed, zero included,
/// gives a full-period sequence, so there is no bad seed to guard against.
#[derive(Debug, Clone)]
struct SplitMix64(u64);

impl SplitMix64 {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`, from the top 53 bits (an f64's whole mantissa).
    fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(millis: u64) -> Duration {
        Duration::from_millis(millis)
    }

    fn no_jitter() -> Backoff {
        Backoff::default().jitter(Jitter::None)
    }

    #[test]
    fn defaults_are_documented_values_and_valid() {
        let backoff = Backoff::default();
        assert_eq!(backoff.min_delay, ms(500));
        assert_eq!(backoff.max_delay, Duration::from_secs(30));
        assert_eq!(backoff.factor, 2.0);
        assert_eq!(backoff.jitter, Jitter::Full);
        assert_eq!(backoff.max_retries, None);
        assert_eq!(backoff.stable_after, Duration::from_secs(5));
        assert_eq!(backoff.validate(), Ok(()));
    }

    #[test]
    fn setters_chain() {
        let backoff = Backoff::default()
            .min_delay(ms(100))
            .max_delay(ms(900))
            .factor(1.5)
            .jitter(Jitter::Decorrelated)
            .max_retries(Some(4))
            .stable_after(ms(50));
        assert_eq!(backoff.min_delay, ms(100));
        assert_eq!(backoff.max_delay, ms(900));
        assert_eq!(backoff.factor, 1.5);
        assert_eq!(backoff.jitter, Jitter::Decorrelated);
        assert_eq!(backoff.max_retries, Some(4));
        assert_eq!(backoff.stable_after, ms(50));
    }

    #[test]
    fn without_jitter_delays_double_up_to_the_maximum() {
        let mut schedule = BackoffSchedule::with_seed(no_jitter(), 7);
        let delays: Vec<u64> = (0..9)
            .map(|_| schedule.next_delay().map_or(0, |d| d.as_millis() as u64))
            .collect();
        assert_eq!(
            delays,
            [500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]
        );
        assert_eq!(schedule.attempt(), 9);
    }

    #[test]
    fn full_jitter_stays_between_minimum_and_capped_ceiling() {
        for seed in 0..200 {
            let mut schedule = BackoffSchedule::with_seed(Backoff::default(), seed);
            for n in 1..=12u32 {
                let delay = schedule.next_delay().unwrap_or_default();
                let ceiling = ms(500 * 2u64.pow(n)).min(Duration::from_secs(30));
                assert!(
                    delay >= ms(500) && delay <= ceiling,
                    "seed {seed}, retry {n}: {delay:?} outside [500ms, {ceiling:?}]"
                );
            }
        }
    }

    #[test]
    fn full_jitter_spreads_even_the_first_retry() {
        let firsts: std::collections::HashSet<Duration> = (0..1000)
            .map(|seed| {
                BackoffSchedule::with_seed(Backoff::default(), seed)
                    .next_delay()
                    .unwrap_or_default()
            })
            .collect();
        assert!(firsts.len() > 990, "only {} distinct delays", firsts.len());
        let mean = firsts.iter().map(|d| d.as_secs_f64()).sum::<f64>() / firsts.len() as f64;
        assert!((0.70..0.80).contains(&mean), "mean first delay {mean}s");
    }

    #[test]
    fn jitter_is_drawn_afresh_for_every_attempt() {
        // Once the ceiling has reached the maximum the window stops growing, so only fresh
        // draws can make the delays differ.
        let mut schedule = BackoffSchedule::with_seed(Backoff::default().max_delay(ms(1000)), 3);
        let delays: std::collections::HashSet<Duration> = (0..20)
            .map(|_| schedule.next_delay().unwrap_or_default())
            .collect();
        assert!(delays.len() >= 19, "delays repeat: {delays:?}");
    }

    #[test]
    fn decorrelated_jitter_stays_within_three_times_the_previous_delay() {
        let config = Backoff::default().jitter(Jitter::Decorrelated);
        for seed in 0..200 {
            let mut schedule = BackoffSchedule::with_seed(config.clone(), seed);
            let mut previous = ms(500);
            for _ in 0..15 {
                let delay = schedule.next_delay().unwrap_or_default();
                assert!(delay >= ms(500));
                assert!(delay <= (previous * 3).min(Duration::from_secs(30)));
                previous = delay;
            }
        }
    }

    #[test]
    fn same_seed_gives_the_same_delays_and_other_seeds_do_not() {
        let draw = |seed| {
            let mut schedule = BackoffSchedule::with_seed(Backoff::default(), seed);
            (0..6)
                .map(|_| schedule.next_delay().unwrap_or_default())
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(42), draw(42));
        assert_ne!(draw(42), draw(43));
    }

    #[test]
    fn retry_limit_ends_the_schedule() {
        let mut schedule = BackoffSchedule::with_seed(no_jitter().max_retries(Some(2)), 0);
        assert_eq!(schedule.next_delay(), Some(ms(500)));
        assert_eq!(schedule.next_delay(), Some(ms(1000)));
        assert_eq!(schedule.next_delay(), None);
        assert_eq!(schedule.next_delay(), None);
        assert_eq!(schedule.attempt(), 2);
    }

    #[test]
    fn zero_retries_means_never_retry() {
        let mut schedule = BackoffSchedule::with_seed(no_jitter().max_retries(Some(0)), 0);
        assert_eq!(schedule.next_delay(), None);
    }

    #[test]
    fn reset_starts_again_from_the_minimum_and_restores_retries() {
        let config = no_jitter().max_retries(Some(3));
        let mut schedule = BackoffSchedule::with_seed(config, 0);
        for _ in 0..3 {
            assert!(schedule.next_delay().is_some());
        }
        assert_eq!(schedule.next_delay(), None);
        schedule.reset();
        assert_eq!(schedule.attempt(), 0);
        assert_eq!(schedule.next_delay(), Some(ms(500)));

        let mut decorrelated =
            BackoffSchedule::with_seed(Backoff::default().jitter(Jitter::Decorrelated), 9);
        for _ in 0..10 {
            decorrelated.next_delay();
        }
        decorrelated.reset();
        assert!(decorrelated.next_delay().unwrap_or_default() <= ms(1500));
    }

    #[test]
    fn validate_names_the_field_and_the_reason() {
        let field = |backoff: Backoff| match backoff.validate() {
            Err(Error::InvalidOption { option, reason }) => {
                assert!(!reason.is_empty());
                option
            }
            other => panic!("expected InvalidOption, got {other:?}"),
        };
        assert_eq!(
            field(Backoff::default().min_delay(Duration::ZERO)),
            "min_delay"
        );
        assert_eq!(
            field(Backoff::default().min_delay(ms(2000)).max_delay(ms(1000))),
            "min_delay"
        );
        assert_eq!(field(Backoff::default().factor(0.5)), "factor");
        assert_eq!(field(Backoff::default().factor(f64::NAN)), "factor");
        assert_eq!(field(Backoff::default().factor(f64::INFINITY)), "factor");
        assert_eq!(
            field(Backoff::default().max_delay(Duration::from_secs(30 * 24 * 3600))),
            "max_delay"
        );
        assert_eq!(
            field(Backoff::default().stable_after(MAX_TIMER_DELAY + ms(1))),
            "stable_after"
        );
        assert_eq!(
            Backoff::default()
                .factor(0.5)
                .validate()
                .map_err(|e| e.to_string()),
            Err("invalid option factor: 0.5 is not a finite number of at least 1".to_owned())
        );
        assert_eq!(
            Backoff::default().max_delay(MAX_TIMER_DELAY).validate(),
            Ok(())
        );
        assert_eq!(
            Backoff::default().min_delay(ms(30_000)).validate(),
            Ok(()),
            "min equal to max is a fixed delay"
        );
    }

    #[test]
    fn unchecked_configurations_never_panic() {
        let configs = [
            Backoff::default().factor(f64::NAN),
            Backoff::default().factor(-3.0),
            Backoff::default().factor(f64::INFINITY),
            Backoff::default().min_delay(Duration::ZERO),
            Backoff::default().min_delay(ms(5000)).max_delay(ms(10)),
            Backoff::default().max_delay(Duration::MAX),
        ];
        for jitter in [Jitter::Full, Jitter::Decorrelated, Jitter::None] {
            for config in &configs {
                let mut schedule = BackoffSchedule::with_seed(config.clone().jitter(jitter), 1);
                for _ in 0..100 {
                    let delay = schedule.next_delay().unwrap_or_default();
                    assert!(delay >= config.min_delay);
                }
            }
        }
    }

    #[test]
    fn attempt_count_saturates_instead_of_overflowing() {
        let mut schedule = BackoffSchedule::with_seed(Backoff::default(), 5);
        schedule.attempt = u32::MAX - 1;
        assert_eq!(schedule.next_delay().map(|d| d <= ms(30_000)), Some(true));
        assert_eq!(schedule.next_delay().map(|d| d <= ms(30_000)), Some(true));
        assert_eq!(schedule.attempt(), u32::MAX);
    }
}

#[cfg(all(test, not(target_arch = "wasm32")))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn jitter() -> impl Strategy<Value = Jitter> {
        prop_oneof![
            Just(Jitter::Full),
            Just(Jitter::Decorrelated),
            Just(Jitter::None)
        ]
    }

    proptest! {
        #[test]
        fn every_delay_is_within_min_and_max(
            min_ms in 1u64..5_000,
            extra_ms in 0u64..60_000,
            factor in 1.0f64..10.0,
            jitter in jitter(),
            seed in any::<u64>(),
        ) {
            let config = Backoff::default()
                .min_delay(Duration::from_millis(min_ms))
                .max_delay(Duration::from_millis(min_ms + extra_ms))
                .factor(factor)
                .jitter(jitter);
            prop_assert_eq!(config.validate(), Ok(()));
            let mut schedule = BackoffSchedule::with_seed(config.clone(), seed);
            for _ in 0..40 {
                let delay = schedule.next_delay().unwrap_or_default();
                prop_assert!(delay >= config.min_delay && delay <= config.max_delay);
            }
        }

        #[test]
        fn retry_limit_allows_exactly_that_many_delays(
            limit in 0u32..20,
            jitter in jitter(),
            seed in any::<u64>(),
        ) {
            let config = Backoff::default().max_retries(Some(limit)).jitter(jitter);
            let mut schedule = BackoffSchedule::with_seed(config, seed);
            let given = std::iter::from_fn(|| schedule.next_delay()).take(100).count();
            prop_assert_eq!(given, limit as usize);
        }
    }
}
