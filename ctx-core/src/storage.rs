//! Context storage: an immutable frame of values behind an atomic pointer,
//! copied on write, so a read is one load and a short scan, and a snapshot
//! is one reference-count increment.
//!
//! A frame is one allocation: `Arc<[Slot]>` laid out as
//! `[header, entry.., terminator]`. The storage's atomic pointer points at
//! the first entry, so a read needs no length: it scans until it meets its
//! key or the terminator (a null key). The header records the slice length,
//! which turns that thin pointer back into the `Arc<[Slot]>` for a snapshot
//! without a lock.

use std::any::Any;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::key::{Key, KeyInfo};

/// A type-erased context value.
pub type Value = Arc<dyn Any + Send + Sync>;

/// One key and its value, as a root hands them to a storage.
pub struct Entry {
    key: &'static KeyInfo,
    value: Value,
}

impl Entry {
    /// Builds the entry of key `K`.
    pub fn new<K: Key>(value: K::Value) -> Self {
        Entry {
            key: K::info(),
            value: Arc::new(value),
        }
    }
}

/// One slot of a frame. For an entry: its key, the address of its value
/// (read without going through the `dyn Any` vtable) and the value.
#[derive(Clone)]
#[repr(C)]
struct Slot {
    key: *const KeyInfo,
    ptr: *const (),
    value: Option<Value>,
}

// SAFETY: `key` points to a `static KeyInfo` (Sync) and `ptr` into the
// `Send + Sync` value owned by the same slot; neither is ever written
// through.
unsafe impl Send for Slot {}
unsafe impl Sync for Slot {}

static HEADER: KeyInfo = KeyInfo::new("<header>", crate::key::merge_replace);

impl Slot {
    fn entry(key: &'static KeyInfo, value: Value) -> Self {
        Slot {
            key,
            ptr: Arc::as_ptr(&value).cast::<()>(),
            value: Some(value),
        }
    }

    /// The key of an entry slot.
    fn info(&self) -> &'static KeyInfo {
        // SAFETY: entry slots hold a `&'static KeyInfo`.
        unsafe { &*self.key }
    }
}

/// An immutable set of values. Never changed once published.
#[derive(Clone)]
pub(crate) struct Frame(Arc<[Slot]>);

impl Frame {
    fn new(entries: Vec<Slot>) -> Self {
        let len = entries.len() + 2;
        let mut slots = Vec::with_capacity(len);
        slots.push(Slot {
            key: &HEADER,
            ptr: ptr::without_provenance(len),
            value: None,
        });
        slots.extend(entries);
        slots.push(Slot {
            key: ptr::null(),
            ptr: ptr::null(),
            value: None,
        });
        Frame(slots.into())
    }

    /// The entry slots, without header and terminator.
    fn entries(&self) -> &[Slot] {
        &self.0[1..self.0.len() - 1]
    }

    /// The pointer a storage publishes: its first entry slot.
    fn first(&self) -> *mut Slot {
        self.0[1..].as_ptr().cast_mut()
    }

    /// Rebuilds the frame whose first entry slot is `first`.
    ///
    /// # Safety
    /// `first` came from [`Frame::first`] of a frame that is still alive.
    unsafe fn from_first(first: *const Slot) -> Self {
        // SAFETY: the header sits just before the first entry and holds the
        // slice length; the `Arc<[Slot]>` is alive, so its count can grow.
        unsafe {
            let header = first.sub(1);
            let len = (*header).ptr.addr();
            let raw = ptr::slice_from_raw_parts(header, len);
            Arc::increment_strong_count(raw);
            Frame(Arc::from_raw(raw))
        }
    }

    fn find(&self, key: &'static KeyInfo) -> Option<&Value> {
        self.entries()
            .iter()
            .find(|s| ptr::eq(s.key, key))
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
unsafe fn scan(first: *const Slot, key: &'static KeyInfo) -> *const Slot {
    // SAFETY: `first` points at a live slot (the terminator at least).
    if unsafe { ptr::eq((*first).key, key) } {
        return first;
    }
    // SAFETY: as for `scan`.
    unsafe { scan_rest(first, key) }
}

/// # Safety
/// As for [`scan`].
#[inline(never)]
unsafe fn scan_rest(first: *const Slot, key: &'static KeyInfo) -> *const Slot {
    let mut s = first;
    // SAFETY: every frame ends with a terminator slot (null key), so the
    // scan stops inside the allocation.
    unsafe {
        loop {
            let k = (*s).key;
            if ptr::eq(k, key) || k.is_null() {
                return s;
            }
            s = s.add(1);
        }
    }
}

struct State {
    /// Every frame this storage published after its first. Kept until the
    /// storage is dropped, so a `&V` handed out by [`Storage::get`] never
    /// dangles even if the key is written afterwards.
    frames: Vec<Frame>,
    /// Keys written in this storage (by `set!` or by a merged child), in
    /// first-write order: what back-propagation carries to the joiner.
    written: Vec<&'static KeyInfo>,
}

/// The context of one request, one spawned task or one root scope.
///
/// Always lives in an [`Arc`]: storages are only created by the
/// constructors below, which return `Arc<Storage>`.
pub struct Storage {
    /// The first entry slot of the current frame.
    current: AtomicPtr<Slot>,
    /// Whether `state.written` is non-empty; read without the lock at join.
    written: AtomicBool,
    state: Mutex<State>,
    /// The frame this storage started from: the snapshot taken at spawn.
    base: Frame,
}

impl Storage {
    fn from_frame(frame: Frame) -> Arc<Storage> {
        Arc::new(Storage {
            current: AtomicPtr::new(frame.first()),
            written: AtomicBool::new(false),
            state: Mutex::new(State {
                frames: Vec::new(),
                written: Vec::new(),
            }),
            base: frame,
        })
    }

    /// A storage holding `entries`, layered over `parent` when there is one:
    /// the parent's values stay visible, `entries` override them.
    pub(crate) fn layered(parent: Option<&Storage>, entries: Vec<Entry>) -> Arc<Storage> {
        let mut all = match parent {
            Some(p) => p.frame().entries().to_vec(),
            None => Vec::with_capacity(entries.len()),
        };
        for e in entries {
            match all.iter_mut().find(|x| ptr::eq(x.key, e.key)) {
                Some(slot) => *slot = Slot::entry(e.key, e.value),
                None => all.push(Slot::entry(e.key, e.value)),
            }
        }
        Storage::from_frame(Frame::new(all))
    }

    /// A child storage starting from this one's current values. O(1) in the
    /// number of keys: the frame is shared, not copied.
    pub(crate) fn fork(&self) -> Arc<Storage> {
        Storage::from_frame(self.frame())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The current frame, shared.
    fn frame(&self) -> Frame {
        // SAFETY: `current` always points into `base` or a frame owned by
        // `state.frames`, which are only released when `self` drops.
        unsafe { Frame::from_first(self.current.load(Ordering::Acquire)) }
    }

    /// The slot of `key` in the current frame, or its terminator.
    #[inline]
    fn slot(&self, key: &'static KeyInfo) -> &Slot {
        // SAFETY: `current` always points at the first entry of a live
        // frame (see `frame`), which lives as long as `self`.
        unsafe { &*scan(self.current.load(Ordering::Acquire), key) }
    }

    /// The current value of `K`, if this storage has it.
    #[inline]
    pub fn get<K: Key>(&self) -> Option<&K::Value> {
        let p = self.slot(K::info()).ptr;
        // SAFETY: values under `K::info()` are always `K::Value` (Entry::new
        // and `set` are the only writers, both typed by K), and the frame
        // holding it lives as long as `self`.
        unsafe { p.cast::<K::Value>().as_ref() }
    }

    pub(crate) fn get_value(&self, key: &'static KeyInfo) -> Option<Value> {
        self.slot(key).value.clone()
    }

    pub(crate) fn set_value(&self, key: &'static KeyInfo, value: Value) {
        let mut st = self.lock();
        let mut entries = self.frame().entries().to_vec();
        match entries.iter_mut().find(|e| ptr::eq(e.key, key)) {
            Some(e) => *e = Slot::entry(key, value),
            None => entries.push(Slot::entry(key, value)),
        }
        let frame = Frame::new(entries);
        self.current.store(frame.first(), Ordering::Release);
        st.frames.push(frame);
        if !st.written.iter().any(|k| ptr::eq(*k, key)) {
            st.written.push(key);
            self.written.store(true, Ordering::Release);
        }
    }

    /// Sets `K` to `value`.
    pub fn set<K: Key>(&self, value: K::Value) {
        self.set_value(K::info(), Arc::new(value));
    }

    /// Applies the writes of a finished `child` to this storage, key by key,
    /// with each key's merge policy.
    pub(crate) fn merge_from(&self, child: &Storage) {
        if !child.was_written() {
            return;
        }
        let written = child.lock().written.clone();
        for key in written {
            let Some(c) = child.get_value(key) else {
                continue;
            };
            let base = child.base.find(key);
            let parent = self.get_value(key);
            let merged = (key.merge)(parent.as_ref(), &c, base);
            self.set_value(key, merged);
        }
    }

    /// Whether any key was written in this storage.
    #[inline]
    pub(crate) fn was_written(&self) -> bool {
        self.written.load(Ordering::Acquire)
    }
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let frame = self.frame();
        let mut m = f.debug_list();
        for s in frame.entries() {
            m.entry(&s.info().name());
        }
        m.finish()
    }
}
