//! A global allocator that, while switched on, counts the live heap, its
//! peak and the allocations; switched off, it only forwards to `System`
//! (one relaxed load more per call), so timed runs are not slowed by the
//! counters' shared cache line.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU64, Ordering::Relaxed};

pub struct Peak;

static ON: AtomicBool = AtomicBool::new(false);
static LIVE: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);
static ALLOCS: AtomicU64 = AtomicU64::new(0);

fn grow(by: isize) {
    let now = LIVE.fetch_add(by, Relaxed) + by;
    PEAK.fetch_max(now, Relaxed);
}

// SAFETY: every call is forwarded to `System` unchanged; the counters are
// only bookkeeping.
unsafe impl GlobalAlloc for Peak {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if ON.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            grow(layout.size() as isize);
        }
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ON.load(Relaxed) {
            LIVE.fetch_sub(layout.size() as isize, Relaxed);
        }
        // SAFETY: `ptr` was allocated by `System` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if ON.load(Relaxed) {
            ALLOCS.fetch_add(1, Relaxed);
            grow(new_size as isize - layout.size() as isize);
        }
        // SAFETY: forwarded unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// What one counted stretch allocated.
pub struct Usage {
    /// The highest live heap above its level at `start`, in bytes.
    pub peak_bytes: isize,
    /// Allocations and reallocations.
    pub allocs: u64,
}

/// Resets the counters and switches counting on.
pub fn start() {
    LIVE.store(0, Relaxed);
    PEAK.store(0, Relaxed);
    ALLOCS.store(0, Relaxed);
    ON.store(true, Relaxed);
}

/// Switches counting off and returns what it saw since `start`. Memory
/// allocated before `start` and freed after it lowers the live count, so
/// the peak is a lower bound by at most what was freed of older memory.
pub fn stop() -> Usage {
    ON.store(false, Relaxed);
    Usage {
        peak_bytes: PEAK.load(Relaxed),
        allocs: ALLOCS.load(Relaxed),
    }
}
