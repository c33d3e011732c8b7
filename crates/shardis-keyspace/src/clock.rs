//! Wall-clock milliseconds, the time base of every expiry.

use std::time::{SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch. Expiry uses wall time like Redis, so absolute expiry
/// times (EXPIREAT, PXAT) mean the same on every server.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
