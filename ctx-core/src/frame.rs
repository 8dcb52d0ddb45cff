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
//! first slot. A read checks the first slot, then the slot where its key
//! was found last (a hint kept by the key's address, checked against the
//! entry count every slot carries), and only then scans until it meets its
//! key or the terminator (a null `ptr`): the position of a key in a root
//! costs nothing once it has been read.

use std::any::{Any, TypeId};
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::key::{Key, KeyInfo};

/// A type-erased context value.
pub type Value = Arc<dyn Any + Send + Sync>;

/// A key's identity in a frame: the address of its `KeyInfo`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct KeyId(*const KeyInfo);

// SAFETY: a `KeyId` points to a `static KeyInfo`, which is `Sync`; it is
// compared, hashed, and dereferenced only as that `&'static KeyInfo`
// (`Slot::info`).
unsafe impl Send for KeyId {}
unsafe impl Sync for KeyId {}

/// Where keys were found last in a frame, by a hash of the key's address:
/// a read checks there before it scans. Kept apart from `KeyInfo`, whose
/// statics stay immutable, so the compiler folds their checks. Keys that
/// share an entry only lose the shortcut, never correctness: a hint is
/// checked against the frame's length and the slot's key before use.
static HINTS: [AtomicU32; 64] = [const { AtomicU32::new(0) }; 64];

impl KeyId {
    /// The key's slot hint.
    #[inline(always)]
    fn hint(self) -> &'static AtomicU32 {
        let h = (self.0 as usize as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 58;
        &HINTS[h as usize]
    }
}

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
    pub(crate) value: Option<Value>,
    /// The number of entries of the frame holding this slot: a hint is
    /// checked against it before it is used as an index.
    len: u32,
}

// SAFETY: `ptr` points into the `Send + Sync` value owned by the same slot
// (or is null) and is never written through.
unsafe impl Send for Slot {}
unsafe impl Sync for Slot {}

/// Not a key: the identity of the terminator slot.
enum NoKey {}

static TERMINATOR: KeyInfo = KeyInfo::new::<NoKey>("<end>", crate::key::merge_replace);

impl Slot {
    pub(crate) fn entry(key: KeyId, value: Value) -> Self {
        Slot {
            key,
            ptr: Arc::as_ptr(&value).cast::<()>(),
            value: Some(value),
            len: 0,
        }
    }

    fn terminator() -> Self {
        Slot {
            key: KeyId(&TERMINATOR),
            ptr: ptr::null(),
            value: None,
            len: 0,
        }
    }

    /// The key of an entry slot.
    pub(crate) fn info(&self) -> &'static KeyInfo {
        // SAFETY: a `KeyId` is only made from a `&'static KeyInfo` (`id`,
        // `Slot::terminator`), so it points to a live `KeyInfo` forever.
        unsafe { &*self.key.0 }
    }
}

/// A set of values. Never changed once published, but by a top-level
/// write when no one else holds it ([`Frame::set_in_place`]).
#[derive(Clone)]
pub(crate) struct Frame(Arc<[Slot]>);

impl Frame {
    pub(crate) fn new(mut entries: Vec<Slot>) -> Self {
        entries.push(Slot::terminator());
        let len =
            u32::try_from(entries.len() - 1).expect("ctx: a context holds fewer than 2^32 keys");
        for s in &mut entries {
            s.len = len;
        }
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
        let len = self.entries().len() as u32;
        let take = |e: &Slot| {
            let mut s = changes
                .iter_mut()
                .find(|c| c.as_ref().is_some_and(|c| c.key == e.key))
                .and_then(Option::take)
                .unwrap_or_else(|| e.clone());
            s.len = len;
            s
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

    /// Replaces the value of `slot`'s key in place, when no one else holds
    /// this frame (no child's snapshot, no retired copy) and the key is in
    /// it: the replaced value, or `slot` back. The one change made to a
    /// published frame, by a top-level write (see `Storage::set_releasing`),
    /// during which no reader of this storage runs.
    pub(crate) fn set_in_place(&mut self, slot: Slot) -> Result<Option<Value>, Slot> {
        let Some(slots) = Arc::get_mut(&mut self.0) else {
            return Err(slot);
        };
        let n = slots.len() - 1;
        let Some(s) = slots[..n].iter_mut().find(|s| s.key == slot.key) else {
            return Err(slot);
        };
        s.ptr = slot.ptr;
        Ok(std::mem::replace(&mut s.value, slot.value))
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
/// and the hinted one are checked inline; the loop over the others is one
/// shared function, so a read site stays small.
///
/// # Safety
/// `first` came from [`Frame::first`] of a frame that is still alive.
#[inline]
pub(crate) unsafe fn scan(first: *const Slot, key: KeyId) -> *const Slot {
    // SAFETY: `first` points at a live slot (the terminator at least).
    if unsafe { (*first).key == key } {
        return first;
    }
    // Where the key was found last: any value is safe, it is checked
    // against the frame's length before use and the slot's key after.
    let hint = key.hint().load(Ordering::Relaxed);
    // SAFETY: every slot of a frame carries the frame's entry count, so
    // `hint < len` keeps `first + hint` inside the frame's entries.
    unsafe {
        if hint < (*first).len {
            let s = first.add(hint as usize);
            if (*s).key == key {
                return s;
            }
        }
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
            if (*s).key == key {
                // The next read of this key looks here first.
                let at = s.offset_from(first) as u32;
                key.hint().store(at, Ordering::Relaxed);
                return s;
            }
            if (*s).ptr.is_null() {
                return s;
            }
            s = s.add(1);
        }
    }
}
