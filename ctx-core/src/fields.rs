//! With the `tracing` feature, the values of keys declared `#[trace]` are
//! fields of a `ctx` span: a real `tracing` span (target `ctx`, level
//! `INFO`) that ctx opens for a context and enters wherever the context is
//! in force on a thread, so every event and span emitted there has it as
//! an ancestor. Any subscriber prints it without a custom formatter (fmt:
//! `ctx{request_id=7 user="ann"}: ...`, JSON: in `span` and `spans`), and
//! an OpenTelemetry layer exports it as a span with those attributes.
//!
//! A span is opened, at the context's next entry on a thread:
//!
//! - for a root that provides a traced key (`scope`, `with!`);
//! - for any context after a write or a child's merge changed a traced
//!   key; when the write happens where the context is in force (a
//!   `ctx::set!`, a join), the new span is entered at once, so the events
//!   after it carry the new value.
//!
//! A spawned child starts in the spawner's span (the span current at the
//! spawn call, see `span.rs`) and opens its own only when it changes a
//! traced key. The parent of an opened span is the span current where it
//! is opened, so user spans stay in the chain.
//!
//! Spans need their fields at the callsite: ctx makes one callsite per set
//! of traced keys it meets (a handful per program, leaked once), with the
//! keys in name order, at most 32 (tracing's limit of fields per span).

use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};

use tracing::callsite::{Callsite, Identifier};
use tracing::field::{Field, FieldSet, Value as FieldValue};
use tracing::metadata::Kind;
use tracing::subscriber::Interest;
use tracing::{Level, Metadata, Span};

use crate::frame::Value;
use crate::key::{KeyInfo, TraceFn};

/// Tracing's limit of fields per callsite.
const MAX_FIELDS: usize = 32;

/// The `ctx` span of one storage.
pub(crate) struct CtxSpan {
    /// Whether this storage has a span of its own to enter: a root with a
    /// traced key, or a storage that changed one. Read at every entry.
    active: AtomicBool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Incremented at every change of a traced value.
    version: u64,
    /// The span opened for the values of `version`.
    open: Option<(u64, Span)>,
    /// The span current at each parallel iterator stage's last call, by
    /// the stage's site (see `span::StageSite`).
    stages: Vec<(usize, Span)>,
}

impl CtxSpan {
    /// The span state of a new storage; `own` if it must open a span of
    /// its own at its first entry.
    pub(crate) fn new(own: bool) -> Self {
        CtxSpan {
            active: AtomicBool::new(own),
            state: Mutex::default(),
        }
    }

    /// A traced value changed: the next entry opens a new span.
    pub(crate) fn changed(&self) {
        self.lock().version += 1;
        self.active.store(true, Ordering::Release);
    }

    /// The span to enter for the storage's values, opened if needed from
    /// `values` (called without any storage lock held: a subscriber may
    /// read the context).
    pub(crate) fn get(&self, values: impl FnOnce() -> Vec<Traced>) -> Option<Span> {
        if !self.active.load(Ordering::Acquire) {
            return None;
        }
        let version = {
            let st = self.lock();
            match &st.open {
                Some((v, span)) if *v == st.version => return Some(span.clone()),
                _ => st.version,
            }
        };
        let span = open(values());
        let mut st = self.lock();
        if st.version == version {
            st.open = Some((version, span.clone()));
        }
        Some(span)
    }

    /// Records the span a parallel iterator stage's closures run in.
    pub(crate) fn set_stage(&self, site: usize, span: Span) {
        let old = {
            let mut st = self.lock();
            match st.stages.iter_mut().find(|(s, _)| *s == site) {
                Some((_, s)) => Some(std::mem::replace(s, span)),
                None => {
                    st.stages.push((site, span));
                    None
                }
            }
        };
        // Closed outside the lock: a subscriber may read the context.
        drop(old);
    }

    /// The span recorded for a parallel iterator stage.
    pub(crate) fn stage(&self, site: usize) -> Option<Span> {
        let st = self.lock();
        st.stages
            .iter()
            .find(|(s, _)| *s == site)
            .map(|(_, span)| span.clone())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A traced key's value, formatted by its key's [`TraceFn`].
pub(crate) struct Traced {
    pub(crate) info: &'static KeyInfo,
    pub(crate) trace: TraceFn,
    pub(crate) value: Value,
}

impl fmt::Debug for Traced {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        (self.trace)(&self.value, f)
    }
}

/// Opens a `ctx` span for `values`, a child of the current span.
fn open(mut values: Vec<Traced>) -> Span {
    if values.is_empty() {
        return Span::none();
    }
    values.sort_by(|a, b| a.info.name().cmp(b.info.name()));
    values.truncate(MAX_FIELDS);
    let meta = callsite(&values);
    if !tracing::dispatcher::get_default(|d| d.enabled(meta)) {
        return Span::none();
    }
    let fields: Vec<Field> = meta.fields().iter().collect();
    let shown: Vec<Box<dyn FieldValue + '_>> = values.iter().map(typed).collect();
    let mut pairs: [(&Field, Option<&dyn FieldValue>); MAX_FIELDS] =
        [(&fields[0], None); MAX_FIELDS];
    for (pair, (field, value)) in pairs.iter_mut().zip(fields.iter().zip(&shown)) {
        *pair = (field, Some(&**value));
    }
    Span::new(meta, &meta.fields().value_set(&pairs))
}

/// A value as a field: numbers, booleans and strings typed (JSON and
/// OpenTelemetry keep their type), anything else by `Debug`.
fn typed(t: &Traced) -> Box<dyn FieldValue + '_> {
    let v: &(dyn std::any::Any + Send + Sync) = &*t.value;
    macro_rules! try_as {
        ($($ty:ty),*) => {$(
            if let Some(v) = v.downcast_ref::<$ty>() {
                return Box::new(*v);
            }
        )*};
    }
    try_as!(u64, i64, u32, i32, u16, i16, u8, i8, bool, f64);
    if let Some(v) = v.downcast_ref::<usize>() {
        return Box::new(*v as u64);
    }
    if let Some(v) = v.downcast_ref::<String>() {
        return Box::new(v.as_str());
    }
    if let Some(v) = v.downcast_ref::<&'static str>() {
        return Box::new(*v);
    }
    Box::new(tracing::field::debug(t))
}

/// A callsite made at run time: one per set of traced keys.
struct Site {
    meta: OnceLock<Metadata<'static>>,
}

impl Callsite for Site {
    fn set_interest(&self, _: Interest) {}

    fn metadata(&self) -> &Metadata<'_> {
        self.meta
            .get()
            .expect("ctx: a callsite is registered once made")
    }
}

/// The callsites made so far, by their keys (the addresses of their
/// `KeyInfo`s, in field order).
static SITES: Mutex<Vec<(Vec<usize>, &'static Metadata<'static>)>> = Mutex::new(Vec::new());

/// The metadata of the `ctx` span for `values`' keys (in this order).
fn callsite(values: &[Traced]) -> &'static Metadata<'static> {
    let keys: Vec<usize> = values
        .iter()
        .map(|t| std::ptr::from_ref(t.info) as usize)
        .collect();
    let mut sites = SITES.lock().unwrap_or_else(PoisonError::into_inner);
    if let Some((_, meta)) = sites.iter().find(|(k, _)| *k == keys) {
        return meta;
    }
    let names: &'static [&'static str] = Box::leak(values.iter().map(|t| t.info.name()).collect());
    let site: &'static Site = Box::leak(Box::new(Site {
        meta: OnceLock::new(),
    }));
    let meta = site.meta.get_or_init(|| {
        Metadata::new(
            "ctx",
            "ctx",
            Level::INFO,
            None,
            None,
            None,
            FieldSet::new(names, Identifier(site)),
            Kind::SPAN,
        )
    });
    tracing::callsite::register(site);
    sites.push((keys, meta));
    meta
}
