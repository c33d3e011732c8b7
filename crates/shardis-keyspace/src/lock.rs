//! The shard lock: a mutex whose waiter busy-waits up to 50 µs and then sleeps until the
//! holder wakes it. Knows nothing of shards, sockets or async.
//!
//! parking_lot's mutex, which this one follows (same parking, same eventual fairness), spins
//! for well under a microsecond, calls `sched_yield` a few times and sleeps. On a hot key whose
//! commands take microseconds (ZADD into a big sorted set) the second event loop then sleeps
//! at nearly every command, and the holder pays a wake-up syscall at nearly every unlock: perf
//! showed a fifth of both loops' time in yields and wake-ups, and two loops reached 0.6 of
//! redis-server's ZADD rate where one loop reached 0.9. Waiting a little longer awake lets the
//! loops take turns without the kernel.

// A raw mutex is an unsafe trait by nature; the unsafe here is that contract and
// parking_lot_core's park/unpark calls, each with its SAFETY note.
#![allow(unsafe_code)]

use lock_api::{GuardNoSend, RawMutex};
use parking_lot_core::{ParkResult, UnparkResult, UnparkToken, DEFAULT_PARK_TOKEN};
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

/// A mutex over `T` whose waiters spin up to 50 µs, then sleep until woken.
pub type Mutex<T> = lock_api::Mutex<RawShardLock, T>;
/// The guard of a locked [`Mutex`].
pub type MutexGuard<'a, T> = lock_api::MutexGuard<'a, RawShardLock, T>;

const LOCKED: u8 = 1;
/// Some thread sleeps waiting for the lock.
const PARKED: u8 = 2;

/// Unpark token: the lock was handed straight to the woken thread (eventual fairness).
const HANDOFF: UnparkToken = UnparkToken(1);
const NO_HANDOFF: UnparkToken = UnparkToken(0);

/// How long a waiter busy-waits before it sleeps: about the time of a few commands on a big
/// sorted set. Measured with two event loops on one hot sorted set (redis-benchmark ZADD
/// -P 16, median of 5 runs against redis-server in the same script): 5 µs → 0.52 of Redis's
/// rate, 50 µs → 0.87, 200 µs → 0.78. Sleeping early costs a wake-up per command; spinning
/// long starves the clients of the core.
const SPIN_FOR: Duration = Duration::from_micros(50);

/// Counts a waiter's spins and says when it has spun long enough. The clock is read once
/// every 64 spins, so spinning costs about the same on CPUs whose spin hint is slow or fast.
struct Spin {
    n: u32,
    since: Option<Instant>,
}

impl Spin {
    fn new() -> Spin {
        Spin { n: 0, since: None }
    }

    fn done(&mut self) -> bool {
        self.n = self.n.wrapping_add(1);
        if !self.n.is_multiple_of(64) {
            return false;
        }
        self.since.get_or_insert_with(Instant::now).elapsed() >= SPIN_FOR
    }
}

pub struct RawShardLock {
    state: AtomicU8,
}

// SAFETY: `lock`/`try_lock` succeed only by setting LOCKED with Acquire ordering on a state
// that did not have it (or by a handoff from `unlock_slow`, which keeps LOCKED set for the
// woken thread), and `unlock` clears it with Release: one holder at a time, its writes
// visible to the next.
unsafe impl RawMutex for RawShardLock {
    #[allow(clippy::declare_interior_mutable_const)]
    const INIT: RawShardLock = RawShardLock {
        state: AtomicU8::new(0),
    };

    type GuardMarker = GuardNoSend;

    #[inline]
    fn lock(&self) {
        if self
            .state
            .compare_exchange_weak(0, LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            self.lock_slow();
        }
    }

    #[inline]
    fn try_lock(&self) -> bool {
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED != 0 {
                return false;
            }
            match self.state.compare_exchange_weak(
                state,
                state | LOCKED,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(s) => state = s,
            }
        }
    }

    #[inline]
    unsafe fn unlock(&self) {
        if self
            .state
            .compare_exchange(LOCKED, 0, Ordering::Release, Ordering::Relaxed)
            .is_err()
        {
            self.unlock_slow();
        }
    }

    #[inline]
    fn is_locked(&self) -> bool {
        self.state.load(Ordering::Relaxed) & LOCKED != 0
    }
}

impl RawShardLock {
    #[cold]
    fn lock_slow(&self) {
        let mut spin = Spin::new();
        let mut state = self.state.load(Ordering::Relaxed);
        loop {
            if state & LOCKED == 0 {
                match self.state.compare_exchange_weak(
                    state,
                    state | LOCKED,
                    Ordering::Acquire,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => return,
                    Err(s) => state = s,
                }
                continue;
            }
            // Spin only while nobody sleeps: a sleeper means the holder is slow.
            if state & PARKED == 0 && !spin.done() {
                std::hint::spin_loop();
                state = self.state.load(Ordering::Relaxed);
                continue;
            }
            if state & PARKED == 0 {
                if let Err(s) = self.state.compare_exchange_weak(
                    state,
                    state | PARKED,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    state = s;
                    continue;
                }
            }
            let addr = self as *const _ as usize;
            let validate = || self.state.load(Ordering::Relaxed) == LOCKED | PARKED;
            // SAFETY: `addr` is this lock's own address, used as the key by `unlock_slow`
            // only; the callbacks neither panic nor call into parking_lot_core.
            let parked = unsafe {
                parking_lot_core::park(addr, validate, || {}, |_, _| {}, DEFAULT_PARK_TOKEN, None)
            };
            if let ParkResult::Unparked(HANDOFF) = parked {
                return;
            }
            spin = Spin::new();
            state = self.state.load(Ordering::Relaxed);
        }
    }

    #[cold]
    fn unlock_slow(&self) {
        let addr = self as *const _ as usize;
        let callback = |result: UnparkResult| {
            // Now and then (parking_lot's timer, every ~0.5 ms) a sleeper gets the lock
            // handed over instead of racing for it, so a thread that keeps re-taking the
            // lock cannot starve it.
            if result.unparked_threads != 0 && result.be_fair {
                if !result.have_more_threads {
                    self.state.store(LOCKED, Ordering::Relaxed);
                }
                return HANDOFF;
            }
            let rest = if result.have_more_threads { PARKED } else { 0 };
            self.state.store(rest, Ordering::Release);
            NO_HANDOFF
        };
        // SAFETY: the same key as `lock_slow` parks on; the callback only stores the state.
        unsafe {
            parking_lot_core::unpark_one(addr, callback);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn counts_under_contention() {
        let m = Arc::new(Mutex::new(0u64));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let m = Arc::clone(&m);
                std::thread::spawn(move || {
                    for i in 0..200_000u64 {
                        let mut g = m.lock();
                        *g += 1;
                        // Now and then hold the lock long enough that waiters sleep.
                        if i % 10_000 == 0 {
                            std::thread::sleep(std::time::Duration::from_micros(200));
                        }
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(*m.lock(), 800_000);
        assert!(!m.is_locked());
        assert!(m.try_lock().is_some());
    }
}
