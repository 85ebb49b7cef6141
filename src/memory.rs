//! Giving memory back to the system once it is freed. glibc's allocator keeps what a burst
//! freed (a thousand half-sent request bodies, say) in its heaps, where it counts against the
//! process long after: so allocations from 32 KiB up are mapped on their own (and unmapped when
//! freed), and after memory held for a request that never completed is freed, whatever the
//! heaps keep free is handed back (`malloc_trim`), once for a whole burst.

use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Allocations this large or larger get a mapping of their own.
#[cfg(target_env = "gnu")]
const MAP_FROM: i32 = 32 << 10;
/// How long after the first of a burst the heaps are trimmed: the rest of it is freed by then.
const SETTLE: Duration = Duration::from_secs(1);

static TRIM_PENDING: AtomicBool = AtomicBool::new(false);

/// Sets the allocator up; once per process.
pub(crate) fn tune() {
    static TUNED: Once = Once::new();
    TUNED.call_once(|| {
        #[cfg(target_env = "gnu")]
        // SAFETY: mallopt changes a tunable of the allocator; any value is safe.
        unsafe {
            libc::mallopt(libc::M_MMAP_THRESHOLD, MAP_FROM);
        }
    });
}

/// Hands what the heaps keep free back to the system, [`SETTLE`] from now (once for every call
/// made meanwhile). On a Tokio runtime; the trim runs on a blocking thread.
pub(crate) fn give_back() {
    if TRIM_PENDING.swap(true, Ordering::AcqRel) {
        return;
    }
    tokio::spawn(async {
        tokio::time::sleep(SETTLE).await;
        TRIM_PENDING.store(false, Ordering::Release);
        let _ = tokio::task::spawn_blocking(|| {
            #[cfg(target_env = "gnu")]
            // SAFETY: malloc_trim only returns free memory of the allocator's heaps.
            unsafe {
                libc::malloc_trim(0);
            }
        })
        .await;
    });
}
