//! Frames: the immutable set of values a storage publishes, and key
//! identity.
//!
//! A key's identity in a frame is the address of its `KeyInfo`, and every
//! typed access checks that the `KeyInfo` a `Key` impl returns was made for
//! that very key type (`KeyInfo::new::<K>` records `TypeId::of::<K>()`; for
//! a key declared with `keys!` the check folds to nothing). So a value
//! stored under `K` is always a `K::Value` (the only writers are typed by
//! `K`, and merged values are type-checked before they are published), and
//! a hand-written `Key` impl that returns another key's `KeyInfo` panics
//! instead of reinterpreting that key's value.
//!
//! A frame is one allocation: `Arc<[Slot]>` laid out as
//! `[entry.., terminator]`. The storage's atomic pointer points at the
//! first slot, so a read needs no length: it scans until it meets its key
//! or the terminator (a null `ptr`).

use std::any::{Any, TypeId};
use std::ptr;
use std::sync::Arc;

use crate::key::{Key, KeyInfo};

/// A type-erased context value.
pub type Value = Arc<dyn Any + Send + Sync>;

/// A key's identity in a frame: the address of its `KeyInfo`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyId(*const KeyInfo);

// SAFETY: a `KeyId` points to a `static KeyInfo`, which is `Sync`, and is
// only compared, never dereferenced.
unsafe impl Send for KeyId {}
unsafe impl Sync for KeyId {}

/// The identity of key `K`, after checking that its `KeyInfo` was made for
/// `K` (constant for keys declared with `keys!`).
#[inline(always)]
pub(crate) fn id<K: Key>() -> KeyId {
    let info = K::info();
    if info.key_type() != TypeId::of::<K>() {
        forged(info.name());
    }
    KeyId(info)
}

#[cold]
#[inline(never)]
fn forged(name: &str) -> ! {
    panic!(
        "ctx: a `Key` impl returns the `KeyInfo` of key `{name}`, made for another type; \
         declare keys with `ctx::keys!`"
    )
}

/// One key and its value, as a root hands them to a storage.
pub struct Entry {
    pub(crate) key: KeyId,
    pub(crate) info: &'static KeyInfo,
    pub(crate) value: Value,
}

impl Entry {
    /// Builds the entry of key `K`.
    pub fn new<K: Key>(value: K::Value) -> Self {
        Entry {
            key: id::<K>(),
            info: K::info(),
            value: Arc::new(value),
        }
    }
}

/// One slot of a frame. For an entry: its key, the key's name and merge
/// policy, the address of its value (read without going through the
/// `dyn Any` vtable) and the value. The terminator has a
/// null `ptr`.
#[derive(Clone)]
pub(crate) struct Slot {
    pub(crate) key: KeyId,
    pub(crate) ptr: *const (),
    pub(crate) info: &'static KeyInfo,
    pub(crate) value: Option<Value>,
}

// SAFETY: `ptr` points into the `Send + Sync` value owned by the same slot
// (or is null) and is never written through.
unsafe impl Send for Slot {}
unsafe impl Sync for Slot {}

/// Not a key: the identity of the terminator slot.
enum NoKey {}

static TERMINATOR: KeyInfo = KeyInfo::new::<NoKey>("<end>", crate::key::merge_replace);

impl Slot {
    pub(crate) fn entry(key: KeyId, info: &'static KeyInfo, value: Value) -> Self {
        Slot {
            key,
            ptr: Arc::as_ptr(&value).cast::<()>(),
            info,
            value: Some(value),
        }
    }

    fn terminator() -> Self {
        Slot {
            key: KeyId(&TERMINATOR),
            ptr: ptr::null(),
            info: &TERMINATOR,
            value: None,
        }
    }

    /// The key of an entry slot.
    pub(crate) fn info(&self) -> &'static KeyInfo {
        self.info
    }
}

/// An immutable set of values. Never changed once published.
#[derive(Clone)]
pub(crate) struct Frame(Arc<[Slot]>);

impl Frame {
    pub(crate) fn new(mut entries: Vec<Slot>) -> Self {
        entries.push(Slot::terminator());
        Frame(entries.into())
    }

    /// The entry slots, without the terminator.
    pub(crate) fn entries(&self) -> &[Slot] {
        &self.0[..self.0.len() - 1]
    }

    /// This frame with `changes` applied (each taken out): one allocation
    /// when every changed key is already in the frame, as it is for every
    /// key a root provided.
    pub(crate) fn with(&self, changes: &mut [Option<Slot>]) -> Frame {
        let take = |e: &Slot| {
            changes
                .iter_mut()
                .find(|c| c.as_ref().is_some_and(|c| c.key == e.key))
                .and_then(Option::take)
                .unwrap_or_else(|| e.clone())
        };
        let slots: Arc<[Slot]> = self
            .entries()
            .iter()
            .map(take)
            .chain(std::iter::once(Slot::terminator()))
            .collect();
        if changes.iter().all(Option::is_none) {
            return Frame(slots);
        }
        let mut entries = slots[..slots.len() - 1].to_vec();
        entries.extend(changes.iter_mut().filter_map(Option::take));
        Frame::new(entries)
    }

    /// The pointer a storage publishes: its first slot.
    pub(crate) fn first(&self) -> *mut Slot {
        self.0.as_ptr().cast_mut()
    }

    pub(crate) fn find(&self, key: KeyId) -> Option<&Value> {
        self.entries()
            .iter()
            .find(|s| s.key == key)
            .and_then(|s| s.value.as_ref())
    }
}

/// Scans the frame starting at `first` for `key`: its slot, or the
/// terminator (null `ptr`, no value) if the key is absent. The first slot
/// is checked inline; the loop over the others is one shared function, so
/// a read site stays small.
///
/// # Safety
/// `first` came from [`Frame::first`] of a frame that is still alive.
#[inline]
pub(crate) unsafe fn scan(first: *const Slot, key: KeyId) -> *const Slot {
    // SAFETY: `first` points at a live slot (the terminator at least).
    if unsafe { (*first).key == key } {
        return first;
    }
    // SAFETY: as for `scan`.
    unsafe { scan_rest(first, key) }
}

/// # Safety
/// As for [`scan`].
#[inline(never)]
unsafe fn scan_rest(first: *const Slot, key: KeyId) -> *const Slot {
    let mut s = first;
    // SAFETY: every frame ends with a terminator slot (null `ptr`, which
    // no entry has: an `Arc`'s data pointer is never null), so the scan
    // stops inside the allocation.
    unsafe {
        loop {
            if (*s).key == key || (*s).ptr.is_null() {
                return s;
            }
            s = s.add(1);
        }
    }
}
