//! Giving memory back to the system once a burst is over.
//!
//! glibc's allocator keeps what the program frees in per-thread arenas instead of
//! returning it, so a server that held a province's hamlet logs during the morning's
//! burst would stay at that size all afternoon, even after the idle logs left its
//! cache. `malloc_trim` hands the free pages of every arena back. It locks each arena
//! while it walks it, so it runs only after an eviction, on a blocking thread.

/// Returns freed memory to the system; whether any was returned. Off glibc it does
/// nothing: other allocators have no such call, and need none as much.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
pub fn release_freed() -> bool {
    // SAFETY: malloc_trim takes no pointers and is thread-safe (glibc serializes it
    // with every other allocator call); it only returns free pages.
    unsafe { libc::malloc_trim(0) == 1 }
}

/// Returns freed memory to the system; whether any was returned. Off glibc it does
/// nothing: other allocators have no such call, and need none as much.
#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
pub fn release_freed() -> bool {
    false
}
