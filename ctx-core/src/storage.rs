//! Context storage: an immutable frame of values behind an atomic pointer,
//! copied on write, so a read is one load and a short scan, and a snapshot
//! is one reference-count increment.
//!
//! A storage holds its current frame, the frame it started from, and the
//! frames replaced since its last releasing write: O(number of keys),
//! whatever the number of writes. When a replaced frame (and a value only
//! it held) may be released is `Cx`'s business; here, `set_releasing`
//! releases at once and every other change retires.

use std::any::Any;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

pub use crate::frame::Value;
use crate::frame::{Entry, Frame, KeyId, Slot, id, scan};
use crate::key::Key;

struct State {
    /// The published frame: `Storage::current` points at its first entry.
    current: Frame,
    /// Frames replaced by a write that could not release them (from a
    /// closure, a merge from another thread), which a `&V` or a lock-free
    /// read may still use. Released at the next top-level write.
    retired: Retired,
    /// Keys written in this storage (by `set!` or by a merged child), in
    /// first-write order: what back-propagation carries to the spawner.
    written: Vec<KeyId>,
}

/// Retired frames: the usual single one needs no allocation of its own,
/// and the whole stays as small as a `Vec` (a storage is allocated at
/// every spawn).
#[derive(Default)]
#[allow(
    clippy::box_collection,
    reason = "one pointer, not three, in every storage"
)]
struct Retired {
    one: Option<Frame>,
    more: Option<Box<Vec<Frame>>>,
}

impl Retired {
    fn push(&mut self, f: Frame) {
        match &self.one {
            None => self.one = Some(f),
            Some(_) => self.more.get_or_insert_default().push(f),
        }
    }

    /// Every retired frame, to drop once the lock is released.
    #[allow(clippy::box_collection, reason = "moved out as stored")]
    fn take(&mut self) -> (Option<Frame>, Option<Box<Vec<Frame>>>) {
        (self.one.take(), self.more.take())
    }
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
    /// The storage of the code that spawned this one: the only context a
    /// child's writes are ever merged into.
    spawner: Option<Arc<Storage>>,
    /// How this child's writes reach its spawner (see [`Delivery`]).
    delivery: AtomicU8,
    /// The `ctx` span showing the traced values.
    #[cfg(feature = "tracing")]
    span: crate::fields::CtxSpan,
}

/// What a releasing write replaced: a value changed in place, or a frame.
enum Released {
    Value(#[allow(dead_code, reason = "dropped after unlocking")] Option<Value>),
    Frame(#[allow(dead_code, reason = "dropped after unlocking")] Frame),
}

/// How a spawned child's writes are delivered, decided once the spawn call
/// has returned and we know whether it gave a handle we can wrap.
pub(crate) mod delivery {
    /// Not decided yet, the child has not finished.
    pub const UNDECIDED: u8 = 0;
    /// Not decided yet, the child finished normally.
    pub const FINISHED: u8 = 1;
    /// A ctx handle merges at its join; completion does nothing.
    pub const AT_JOIN: u8 = 2;
    /// No handle to wrap: the child's normal completion merges.
    pub const AT_COMPLETION: u8 = 3;
}

impl Storage {
    /// A storage starting from `frame`; `own_span`: it opens a `ctx` span
    /// of its own (a root providing a traced key).
    fn from_frame(
        frame: Frame,
        spawner: Option<Arc<Storage>>,
        #[cfg_attr(not(feature = "tracing"), allow(unused_variables))] own_span: bool,
    ) -> Arc<Storage> {
        Arc::new(Storage {
            current: AtomicPtr::new(frame.first()),
            written: AtomicBool::new(false),
            state: Mutex::new(State {
                current: frame.clone(),
                retired: Retired::default(),
                written: Vec::new(),
            }),
            base: frame,
            spawner,
            delivery: AtomicU8::new(delivery::AT_JOIN),
            #[cfg(feature = "tracing")]
            span: crate::fields::CtxSpan::new(own_span),
        })
    }

    /// An owning reference to a storage known by reference.
    pub(crate) fn share(st: &Storage) -> Arc<Storage> {
        let p: *const Storage = st;
        // SAFETY: every `Storage` lives in an `Arc` (its only constructors
        // return `Arc<Storage>`), so `p` points into an Arc allocation that
        // is alive for the duration of the `&Storage` borrow.
        unsafe {
            Arc::increment_strong_count(p);
            Arc::from_raw(p)
        }
    }

    /// A storage holding `entries`, layered over `parent` when there is one:
    /// the parent's values stay visible, `entries` override them.
    pub(crate) fn layered(parent: Option<&Storage>, entries: Vec<Entry>) -> Arc<Storage> {
        let mut all = match parent {
            Some(p) => p.lock().current.entries().to_vec(),
            None => Vec::with_capacity(entries.len()),
        };
        // A root that provides no traced key stays in the enclosing span.
        let own_span = entries.iter().any(|e| e.info.is_traced());
        for e in entries {
            match all.iter_mut().find(|x| x.key == e.key) {
                Some(slot) => *slot = Slot::entry(e.key, e.value),
                None => all.push(Slot::entry(e.key, e.value)),
            }
        }
        Storage::from_frame(Frame::new(all), None, own_span)
    }

    /// A child storage starting from this one's current values, whose
    /// writes go back to this one. O(1) in the number of keys: the frame is
    /// shared, not copied.
    pub(crate) fn fork(&self) -> Arc<Storage> {
        let frame = self.lock().current.clone();
        Storage::from_frame(frame, Some(Storage::share(self)), false)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The slot of `key` in the current frame, or its terminator.
    ///
    /// # Safety
    /// The caller holds the lock, or borrows a `Cx` of this storage: then
    /// no write that releases frames can run until the borrow ends (see
    /// `Cx`), and a frame replaced meanwhile by a write that does not
    /// release (from a closure, a merge from another thread) is retired,
    /// not freed.
    #[inline]
    unsafe fn slot(&self, key: KeyId) -> &Slot {
        // SAFETY: `current` points at the first entry of `state.current`,
        // or of a retired frame if it was replaced since the load; either
        // is alive for the caller by the contract above.
        unsafe { &*scan(self.current.load(Ordering::Acquire), key) }
    }

    /// The current value of `K`, if this storage has it, for a lock-free
    /// reader.
    ///
    /// # Safety
    /// The caller borrows a `Cx` of this storage for as long as it uses
    /// the result (see [`Storage::slot`]).
    #[inline]
    pub(crate) unsafe fn get<K: Key>(&self) -> Option<&K::Value> {
        // SAFETY: forwarded from the caller.
        let p = unsafe { self.slot(id::<K>()) }.ptr;
        // SAFETY: the value under `id::<K>()` is always a `K::Value`:
        // `Entry::new::<K>` and `set::<K>` are typed by `K`, and merges
        // check the merged value's type before publishing it. It lives as
        // long as the frame holding it, which the caller keeps alive (above).
        unsafe { p.cast::<K::Value>().as_ref() }
    }

    /// An owning reference to the current value of `K`, read under the
    /// lock: safe from any thread, at any time.
    pub(crate) fn get_value<K: Key>(&self) -> Option<Value> {
        let _st = self.lock();
        // SAFETY: the lock is held.
        unsafe { self.slot(id::<K>()) }.value.clone()
    }

    /// Publishes the current frame with `changes` applied; the caller holds
    /// the lock. Returns the frames that are no longer published: the
    /// caller drops them (after unlocking) at an exclusive point, or
    /// retires them otherwise.
    fn publish(&self, st: &mut State, changes: &mut [Option<Slot>]) -> Frame {
        for c in changes.iter().flatten() {
            self.wrote(st, c.key, c.info().is_traced());
        }
        let frame = st.current.with(changes);
        self.current.store(frame.first(), Ordering::Release);
        std::mem::replace(&mut st.current, frame)
    }

    /// Records a write of `key` (the caller holds the lock): what
    /// back-propagation carries, and a new `ctx` span if it is traced.
    fn wrote(&self, st: &mut State, key: KeyId, traced: bool) {
        #[cfg(feature = "tracing")]
        if traced {
            self.span.changed();
        }
        #[cfg(not(feature = "tracing"))]
        let _ = traced;
        if !st.written.contains(&key) {
            st.written.push(key);
        }
        self.written.store(true, Ordering::Release);
    }

    /// Sets `K` to `value` and releases the replaced frame and every
    /// retired one.
    ///
    /// # Safety
    /// The caller holds a top-level `Cx` of this storage, taken mutably:
    /// no `&V` into it is borrowed and no lock-free read of it runs (see
    /// `Cx`).
    pub(crate) unsafe fn set_releasing<K: Key>(&self, value: K::Value) {
        let slot = Slot::entry(id::<K>(), Arc::new(value));
        let released = {
            let mut st = self.lock();
            // The frame no one else holds is changed in place: no reader
            // runs (the caller's contract), so one allocation (the value)
            // is all a write costs.
            let old = match st.current.set_in_place(slot) {
                Ok(old) => {
                    self.wrote(&mut st, id::<K>(), K::info().is_traced());
                    Released::Value(old)
                }
                Err(slot) => Released::Frame(self.publish(&mut st, &mut [Some(slot)])),
            };
            (old, st.retired.take())
        };
        // Dropped after unlocking: a value's drop code may use the context.
        drop(released);
        self.traced_changed::<K>();
    }

    /// Sets `K` to `value`, keeping the replaced frame until the next
    /// releasing write: a write from where a `&V` may still be borrowed.
    pub(crate) fn set_retiring<K: Key>(&self, value: K::Value) {
        let slot = Slot::entry(id::<K>(), Arc::new(value));
        let mut st = self.lock();
        let old = self.publish(&mut st, &mut [Some(slot)]);
        st.retired.push(old);
        drop(st);
        self.traced_changed::<K>();
    }

    /// After a write of `K`: if `K` is traced, the events that follow on
    /// this thread show the new value.
    #[inline]
    fn traced_changed<K: Key>(&self) {
        #[cfg(feature = "tracing")]
        if K::info().is_traced() {
            crate::ambient::reopen_span(self);
        }
    }

    /// Records the span a parallel iterator stage's closures run in.
    #[cfg(feature = "tracing")]
    pub(crate) fn set_stage_span(&self, site: usize, span: tracing::Span) {
        self.span.set_stage(site, span);
    }

    /// The span recorded for a parallel iterator stage.
    #[cfg(feature = "tracing")]
    pub(crate) fn stage_span(&self, site: usize) -> Option<tracing::Span> {
        self.span.stage(site)
    }

    /// The `ctx` span to enter with this storage, if it has one of its own.
    #[cfg(feature = "tracing")]
    pub(crate) fn ctx_span(&self) -> Option<tracing::Span> {
        self.span.get(|| {
            let frame = self.lock().current.clone();
            frame
                .entries()
                .iter()
                .filter_map(|s| {
                    Some(crate::fields::Traced {
                        info: s.info(),
                        trace: s.info().trace_fn()?,
                        value: s.value.clone()?,
                    })
                })
                .collect()
        })
    }

    /// Releases the retired frames.
    ///
    /// # Safety
    /// As for [`Storage::set_releasing`].
    pub(crate) unsafe fn release_retired(&self) {
        let retired = self.lock().retired.take();
        drop(retired);
    }

    /// Applies the writes of a finished child to its spawner, key by key
    /// with each key's merge policy, as one atomic change: concurrent
    /// merges and writes are serialized by the spawner's lock, and a merge
    /// function that panics (or returns a value of the wrong type) changes
    /// nothing.
    ///
    /// From another thread (a handle joined anywhere, a child's
    /// completion) the replaced frame is retired, not released: the
    /// spawner may be reading it.
    pub(crate) fn merge_into_spawner(&self) {
        if let Some(spawner) = &self.spawner {
            spawner.merge_from(self, false);
        }
    }

    /// [`Storage::merge_into_spawner`] by the spawner's own code, at the
    /// top level: what the merge replaces, and every retired frame, is
    /// released.
    ///
    /// # Safety
    /// As for [`Storage::set_releasing`], for the spawner.
    pub(crate) unsafe fn merge_into_spawner_releasing(&self) {
        if let Some(spawner) = &self.spawner {
            spawner.merge_from(self, true);
        }
    }

    /// Publishes the child's writes. The replaced frame is released with
    /// the retired ones (`release`, at a top-level point of this storage)
    /// or retired.
    fn merge_from(&self, child: &Storage, release: bool) {
        if !child.was_written() {
            return;
        }
        // Locks are taken child first, spawner second, everywhere.
        let c_st = child.lock();
        let mut st = self.lock();
        let mut changes = Vec::with_capacity(c_st.written.len());
        for &key in &c_st.written {
            let Some(c) = c_st.current.entries().iter().find(|s| s.key == key) else {
                continue;
            };
            let Some(cv) = &c.value else { continue };
            let base = child.base.find(key);
            // SAFETY: the lock is held.
            let parent = unsafe { self.slot(key) }.value.as_ref();
            let merged = (c.info().merge)(parent, cv, base);
            let (m, v): (&(dyn Any + Send + Sync), &(dyn Any + Send + Sync)) = (&*merged, &**cv);
            assert!(
                m.type_id() == v.type_id(),
                "ctx: the merge function of key `{}` returned a value of another type",
                c.info().name()
            );
            changes.push(Some(Slot::entry(key, merged)));
        }
        #[cfg(feature = "tracing")]
        let changes_traced = changes.iter().flatten().any(|c| c.info().is_traced());
        let old = self.publish(&mut st, &mut changes);
        let released = if release {
            Some((old, st.retired.take()))
        } else {
            st.retired.push(old);
            None
        };
        #[cfg(feature = "tracing")]
        let traced = changes_traced;
        drop((st, c_st));
        drop(released);
        #[cfg(feature = "tracing")]
        if traced {
            crate::ambient::reopen_span(self);
        }
    }

    /// Whether any key was written in this storage.
    #[inline]
    pub(crate) fn was_written(&self) -> bool {
        self.written.load(Ordering::Acquire)
    }

    /// Marks this child as merged by its completion rather than by a
    /// handle. Called before it is spawned.
    pub(crate) fn deliver_undecided(&self) {
        self.delivery.store(delivery::UNDECIDED, Ordering::Release);
    }

    /// The child finished normally: merge now if that is how its writes
    /// are delivered.
    pub(crate) fn finished(&self) {
        let prev = self
            .delivery
            .compare_exchange(
                delivery::UNDECIDED,
                delivery::FINISHED,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .unwrap_or_else(|p| p);
        if prev == delivery::AT_COMPLETION {
            self.merge_into_spawner();
        }
    }

    /// Decides how the writes are delivered once the spawn call returned.
    pub(crate) fn decide(&self, at_join: bool) {
        let to = if at_join {
            delivery::AT_JOIN
        } else {
            delivery::AT_COMPLETION
        };
        let prev = self.delivery.swap(to, Ordering::AcqRel);
        if prev == delivery::FINISHED && !at_join {
            self.merge_into_spawner();
        }
    }
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let frame = self.lock().current.clone();
        let mut m = f.debug_list();
        for s in frame.entries() {
            m.entry(&s.info().name());
        }
        m.finish()
    }
}
