//! Context storage: an immutable frame of values behind an atomic pointer,
//! copied on write, so a read is one load and a snapshot is one
//! reference-count increment.

use std::any::Any;
use std::ptr;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::key::{Key, KeyInfo};

/// A type-erased context value.
pub type Value = Arc<dyn Any + Send + Sync>;

/// One key and its value, as stored in a frame.
#[derive(Clone)]
pub struct Entry {
    pub(crate) key: &'static KeyInfo,
    pub(crate) value: Value,
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

/// An immutable set of values. Never changed once published.
pub(crate) struct Frame {
    entries: Vec<Entry>,
}

impl Frame {
    pub(crate) fn find(&self, key: &'static KeyInfo) -> Option<&Value> {
        self.entries
            .iter()
            .find(|e| ptr::eq(e.key, key))
            .map(|e| &e.value)
    }
}

struct State {
    /// Every frame this storage ever published. Kept until the storage is
    /// dropped, so a `&V` handed out by [`Storage::get`] never dangles even
    /// if the key is written afterwards.
    frames: Vec<Arc<Frame>>,
    /// Keys written in this storage (by `set!` or by a merged child), in
    /// first-write order: what back-propagation carries to the joiner.
    written: Vec<&'static KeyInfo>,
}

/// The context of one request, one spawned task or one root scope.
///
/// Always lives in an [`Arc`]: storages are only created by the
/// constructors below, which return `Arc<Storage>`.
pub struct Storage {
    current: AtomicPtr<Frame>,
    state: Mutex<State>,
    /// The frame this storage started from: the snapshot taken at spawn.
    base: Arc<Frame>,
}

impl Storage {
    fn from_frame(frame: Arc<Frame>) -> Arc<Storage> {
        Arc::new(Storage {
            current: AtomicPtr::new(Arc::as_ptr(&frame).cast_mut()),
            state: Mutex::new(State {
                frames: vec![Arc::clone(&frame)],
                written: Vec::new(),
            }),
            base: frame,
        })
    }

    /// A storage holding `entries`, layered over `parent` when there is one:
    /// the parent's values stay visible, `entries` override them.
    pub(crate) fn layered(parent: Option<&Storage>, entries: Vec<Entry>) -> Arc<Storage> {
        let mut all = match parent {
            Some(p) => p.frame().entries.clone(),
            None => Vec::with_capacity(entries.len()),
        };
        for e in entries {
            match all.iter_mut().find(|x| ptr::eq(x.key, e.key)) {
                Some(slot) => slot.value = e.value,
                None => all.push(e),
            }
        }
        Storage::from_frame(Arc::new(Frame { entries: all }))
    }

    /// A child storage starting from this one's current values. O(1) in the
    /// number of keys: the frame is shared, not copied.
    pub(crate) fn fork(&self) -> Arc<Storage> {
        Storage::from_frame(self.snapshot())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn frame(&self) -> &Frame {
        // SAFETY: `current` always points into a frame owned by
        // `state.frames`, which are only released when `self` drops.
        unsafe { &*self.current.load(Ordering::Acquire) }
    }

    fn snapshot(&self) -> Arc<Frame> {
        let p = self.current.load(Ordering::Acquire);
        // SAFETY: `p` came from `Arc::as_ptr` of a frame that `state.frames`
        // keeps alive for as long as `self` lives.
        unsafe {
            Arc::increment_strong_count(p);
            Arc::from_raw(p)
        }
    }

    /// The current value of `K`, if this storage has it.
    #[inline]
    pub fn get<K: Key>(&self) -> Option<&K::Value> {
        self.frame().find(K::info()).map(|v| {
            // SAFETY: values under `K::info()` are always `K::Value`
            // (Entry::new and set are the only writers, both typed by K).
            unsafe { &*Arc::as_ptr(v).cast::<K::Value>() }
        })
    }

    pub(crate) fn get_value(&self, key: &'static KeyInfo) -> Option<Value> {
        self.frame().find(key).cloned()
    }

    pub(crate) fn set_value(&self, key: &'static KeyInfo, value: Value) {
        let mut st = self.lock();
        let mut entries = self.frame().entries.clone();
        match entries.iter_mut().find(|e| ptr::eq(e.key, key)) {
            Some(e) => e.value = value,
            None => entries.push(Entry { key, value }),
        }
        let frame = Arc::new(Frame { entries });
        self.current
            .store(Arc::as_ptr(&frame).cast_mut(), Ordering::Release);
        st.frames.push(frame);
        if !st.written.iter().any(|k| ptr::eq(*k, key)) {
            st.written.push(key);
        }
    }

    /// Sets `K` to `value`.
    pub fn set<K: Key>(&self, value: K::Value) {
        self.set_value(K::info(), Arc::new(value));
    }

    /// Applies the writes of a finished `child` to this storage, key by key,
    /// with each key's merge policy.
    pub(crate) fn merge_from(&self, child: &Storage) {
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
    pub(crate) fn was_written(&self) -> bool {
        !self.lock().written.is_empty()
    }
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut m = f.debug_list();
        for e in &self.frame().entries {
            m.entry(&e.key.name());
        }
        m.finish()
    }
}
