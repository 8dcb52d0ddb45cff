//! Call-site probes: how a rewritten call finds out, from the callee's type
//! alone, whether it takes the hidden context.
//!
//! `f(a, b)` in a propagated body becomes
//! `(&&&Probe::new(f)).__call2(cx, a, b)`. Method lookup tries the autoref
//! levels in order: a callee whose first parameter is `Cx<N>` (level 3), a
//! method whose second parameter is `Cx<N>` after the receiver (level 2),
//! anything else called as written (level 1). The key check
//! `N: Covered<W>` is a bound on the method, not the impl, so a missing key
//! is an error rather than a silent fall-through. Only the callee is
//! probed, never a call's result, so the result's type is inferred as for
//! the plain call; the arguments are checked against the callee's
//! signature through the `FnOnce` bound, so coercions (`&String` to `&str`)
//! and closure-argument inference work as in a plain call.
//!
//! `x.await` becomes `(&&AwaitProbe::new(x)).__bind_await(cx).await`: a
//! `Requires` (an async propagated call) is bound to the context (level
//! 2), any other operand is left as it is (level 1).

// A probe method takes the context and every argument of the call.
#![allow(clippy::too_many_arguments)]

use std::cell::Cell;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::check::{Covered, Discarded};
use crate::cx::{Cx, Owned};
use crate::future::{AsyncBody, Bound, Requires};

/// Holds a callee for one probe. Callees reached by path (fn items, fn
/// pointers) are `Copy`; holding them by value keeps the probe `Sync`, so a
/// call whose arguments `.await` still makes a `Send` future.
pub struct Probe<F>(F);

impl<F: Copy> Probe<F> {
    #[inline]
    pub fn new(f: F) -> Self {
        Probe(f)
    }

    #[inline]
    fn take(&self) -> F {
        self.0
    }
}

macro_rules! probe {
    ($ViaCx:ident $Plain:ident $m:ident $d:ident; $($A:ident $a:ident)*) => {
        pub trait $ViaCx<'c, W, N, $($A,)* R> {
            fn $m(self, cx: Cx<'c, W>, $($a: $A),*) -> R
            where
                N: Covered<W>;
            /// The call as a statement that discards its result.
            fn $d(self, cx: Cx<'c, W>, $($a: $A),*) -> <N as Discarded<R>>::Out
            where
                N: Covered<W> + Discarded<R>;
        }

        impl<'c, W, N, F, $($A,)* R> $ViaCx<'c, W, N, $($A,)* R> for &&&Probe<F>
        where
            F: Copy + FnOnce(Cx<'c, N>, $($A),*) -> R,
        {
            #[inline]
            fn $m(self, cx: Cx<'c, W>, $($a: $A),*) -> R
            where
                N: Covered<W>,
            {
                (self.take())(cx.__retype(), $($a),*)
            }
            #[inline]
            fn $d(self, cx: Cx<'c, W>, $($a: $A),*) -> <N as Discarded<R>>::Out
            where
                N: Covered<W> + Discarded<R>,
            {
                N::wrap((self.take())(cx.__retype(), $($a),*))
            }
        }

        pub trait $Plain<$($A,)* R> {
            fn $m<W>(self, cx: Cx<'_, W>, $($a: $A),*) -> R;
            fn $d<W>(self, cx: Cx<'_, W>, $($a: $A),*) -> R;
        }

        impl<F, $($A,)* R> $Plain<$($A,)* R> for &Probe<F>
        where
            F: Copy + FnOnce($($A),*) -> R,
        {
            #[inline]
            fn $m<W>(self, _cx: Cx<'_, W>, $($a: $A),*) -> R {
                (self.take())($($a),*)
            }
            #[inline]
            fn $d<W>(self, _cx: Cx<'_, W>, $($a: $A),*) -> R {
                (self.take())($($a),*)
            }
        }
    };
}

macro_rules! probe_recv {
    ($ViaRecv:ident $m:ident $d:ident; $S:ident $s:ident $($A:ident $a:ident)*) => {
        pub trait $ViaRecv<'c, W, N, $S, $($A,)* R> {
            fn $m(self, cx: Cx<'c, W>, $s: $S, $($a: $A),*) -> R
            where
                N: Covered<W>;
            /// The call as a statement that discards its result.
            fn $d(self, cx: Cx<'c, W>, $s: $S, $($a: $A),*) -> <N as Discarded<R>>::Out
            where
                N: Covered<W> + Discarded<R>;
        }

        impl<'c, W, N, F, $S, $($A,)* R> $ViaRecv<'c, W, N, $S, $($A,)* R> for &&Probe<F>
        where
            F: Copy + FnOnce($S, Cx<'c, N>, $($A),*) -> R,
        {
            #[inline]
            fn $m(self, cx: Cx<'c, W>, $s: $S, $($a: $A),*) -> R
            where
                N: Covered<W>,
            {
                (self.take())($s, cx.__retype(), $($a),*)
            }
            #[inline]
            fn $d(self, cx: Cx<'c, W>, $s: $S, $($a: $A),*) -> <N as Discarded<R>>::Out
            where
                N: Covered<W> + Discarded<R>,
            {
                N::wrap((self.take())($s, cx.__retype(), $($a),*))
            }
        }
    };
}

probe!(ViaCx0 Plain0 __call0 __discard0;);
probe!(ViaCx1 Plain1 __call1 __discard1; A1 a1);
probe!(ViaCx2 Plain2 __call2 __discard2; A1 a1 A2 a2);
probe!(ViaCx3 Plain3 __call3 __discard3; A1 a1 A2 a2 A3 a3);
probe!(ViaCx4 Plain4 __call4 __discard4; A1 a1 A2 a2 A3 a3 A4 a4);
probe!(ViaCx5 Plain5 __call5 __discard5; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5);
probe!(ViaCx6 Plain6 __call6 __discard6; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6);
probe!(ViaCx7 Plain7 __call7 __discard7; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7);
probe!(ViaCx8 Plain8 __call8 __discard8; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8);
probe!(ViaCx9 Plain9 __call9 __discard9; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9);
probe!(ViaCx10 Plain10 __call10 __discard10; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10);
probe!(ViaCx11 Plain11 __call11 __discard11; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11);
probe!(ViaCx12 Plain12 __call12 __discard12; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11 A12 a12);
probe!(ViaCx13 Plain13 __call13 __discard13; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11 A12 a12 A13 a13);
probe!(ViaCx14 Plain14 __call14 __discard14; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11 A12 a12 A13 a13 A14 a14);
probe!(ViaCx15 Plain15 __call15 __discard15; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11 A12 a12 A13 a13 A14 a14 A15 a15);
probe!(ViaCx16 Plain16 __call16 __discard16; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11 A12 a12 A13 a13 A14 a14 A15 a15 A16 a16);

probe_recv!(ViaRecv1 __call1 __discard1; S s);
probe_recv!(ViaRecv2 __call2 __discard2; S s A2 a2);
probe_recv!(ViaRecv3 __call3 __discard3; S s A2 a2 A3 a3);
probe_recv!(ViaRecv4 __call4 __discard4; S s A2 a2 A3 a3 A4 a4);
probe_recv!(ViaRecv5 __call5 __discard5; S s A2 a2 A3 a3 A4 a4 A5 a5);
probe_recv!(ViaRecv6 __call6 __discard6; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6);
probe_recv!(ViaRecv7 __call7 __discard7; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7);
probe_recv!(ViaRecv8 __call8 __discard8; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8);
probe_recv!(ViaRecv9 __call9 __discard9; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9);
probe_recv!(ViaRecv10 __call10 __discard10; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10);
probe_recv!(ViaRecv11 __call11 __discard11; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11);
probe_recv!(ViaRecv12 __call12 __discard12; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11 A12 a12);
probe_recv!(ViaRecv13 __call13 __discard13; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11 A12 a12 A13 a13);
probe_recv!(ViaRecv14 __call14 __discard14; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11 A12 a12 A13 a13 A14 a14);
probe_recv!(ViaRecv15 __call15 __discard15; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11 A12 a12 A13 a13 A14 a14 A15 a15);
probe_recv!(ViaRecv16 __call16 __discard16; S s A2 a2 A3 a3 A4 a4 A5 a5 A6 a6 A7 a7 A8 a8 A9 a9 A10 a10 A11 a11 A12 a12 A13 a13 A14 a14 A15 a15 A16 a16);

/// Holds an argument that is a path (`.map(tag)`) for one probe: a
/// propagated function becomes a closure that passes the context (level
/// 1, by value), anything else is handed on as it is (level 2, through
/// `Deref` to `ValueProbeInner`). The probe is taken by value, so the
/// closure borrows only the context, not the probe.
pub struct ValueProbe<T>(ValueProbeInner<T>);

/// The fallback level of a [`ValueProbe`].
pub struct ValueProbeInner<T>(Once<T>);

impl<T> ValueProbe<T> {
    #[inline]
    pub fn new(t: T) -> Self {
        ValueProbe(ValueProbeInner(Once::new(t)))
    }
}

impl<T> std::ops::Deref for ValueProbe<T> {
    type Target = ValueProbeInner<T>;
    #[inline]
    fn deref(&self) -> &ValueProbeInner<T> {
        &self.0
    }
}

/// A path argument that is not a propagated function: handed on as is.
pub trait ValuePlain<T> {
    fn __value<W>(&self, cx: &Cx<'_, W>) -> T;
}

impl<T> ValuePlain<T> for ValueProbeInner<T> {
    #[inline(always)]
    fn __value<W>(&self, _cx: &Cx<'_, W>) -> T {
        self.0.take()
    }
}

macro_rules! value_probe {
    ($ViaCx:ident; $($A:ident $a:ident)+) => {
        /// A propagated function passed as a value: a closure that calls it
        /// with the context, like a closure written in the body (its
        /// writes are not top-level; see `Cx`).
        pub trait $ViaCx<'c, W, N, $($A,)+ R> {
            fn __value<'b>(self, cx: &'b Cx<'c, W>) -> impl Fn($($A),+) -> R + Copy
            where
                N: Covered<W>;
        }

        impl<'c, W, N, F, $($A,)+ R> $ViaCx<'c, W, N, $($A,)+ R> for ValueProbe<F>
        where
            F: Copy + Fn(Cx<'c, N>, $($A),+) -> R,
        {
            #[inline]
            fn __value<'b>(self, cx: &'b Cx<'c, W>) -> impl Fn($($A),+) -> R + Copy
            where
                N: Covered<W>,
            {
                let f = self.0.0.take();
                move |$($a),+| f(cx.__c().__retype(), $($a),+)
            }
        }
    };
}

value_probe!(ValueViaCx1; A1 a1);
value_probe!(ValueViaCx2; A1 a1 A2 a2);
value_probe!(ValueViaCx3; A1 a1 A2 a2 A3 a3);
value_probe!(ValueViaCx4; A1 a1 A2 a2 A3 a3 A4 a4);
value_probe!(ValueViaCx5; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5);
value_probe!(ValueViaCx6; A1 a1 A2 a2 A3 a3 A4 a4 A5 a5 A6 a6);

/// A value an autoref probe moves out of through `&self`, once.
pub(crate) struct Once<T>(Cell<Option<T>>);

impl<T> Once<T> {
    #[inline]
    pub(crate) fn new(t: T) -> Self {
        Once(Cell::new(Some(t)))
    }

    #[inline]
    pub(crate) fn take(&self) -> T {
        match self.0.take() {
            Some(t) => t,
            None => unreachable!("a probe is used once"),
        }
    }
}

/// Holds the operand of an `.await` (or `ctx::bind!`) for one probe.
pub struct AwaitProbe<T>(Once<T>);

impl<T> AwaitProbe<T> {
    #[inline]
    pub fn new(t: T) -> Self {
        AwaitProbe(Once::new(t))
    }

    #[inline]
    fn take(&self) -> T {
        self.0.take()
    }
}

/// An awaited `Requires` gets the caller's context: for as long as the
/// bound future exists, it holds the caller's `Cx` as it was passed
/// (exclusively in a body with `mut` keys).
pub trait AwaitViaCx<'c, W, N> {
    type Out;
    type Owned;
    fn __bind_await(self, cx: Cx<'c, W>) -> Self::Out
    where
        N: Covered<W>;
    /// Binds to a spawned child's own storage.
    fn __bind_owned(self, own: Owned<W>) -> Self::Owned
    where
        N: Covered<W>;
    /// Binds an operand awaited in a statement that discards its output:
    /// the output is `#[must_use]` when the function is (see `MustUse`).
    fn __bind_discard(self, cx: Cx<'c, W>) -> Discard<Self::Out, N>
    where
        N: Covered<W>;
}

impl<'c, W, N, B> AwaitViaCx<'c, W, N> for &&AwaitProbe<Requires<N, B>>
where
    B: AsyncBody<N>,
{
    type Out = Bound<B::Fut>;
    type Owned = Bound<B::Fut>;
    #[inline]
    fn __bind_await(self, cx: Cx<'c, W>) -> Bound<B::Fut>
    where
        N: Covered<W>,
    {
        self.take().start(cx.__share())
    }
    #[inline]
    fn __bind_owned(self, own: Owned<W>) -> Bound<B::Fut>
    where
        N: Covered<W>,
    {
        self.take().start(own.retype())
    }
    #[inline]
    fn __bind_discard(self, cx: Cx<'c, W>) -> Discard<Bound<B::Fut>, N>
    where
        N: Covered<W>,
    {
        Discard {
            fut: self.take().start(cx.__share()),
            _n: PhantomData,
        }
    }
}

/// A bound future awaited in a statement that discards its output: the
/// output is the key set's [`Discarded`] form of the future's, so a
/// `#[must_use]` function's output still warns.
pub struct Discard<F, N> {
    fut: F,
    _n: PhantomData<fn() -> N>,
}

impl<F: Future, N: Discarded<F::Output>> Future for Discard<F, N> {
    type Output = N::Out;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<N::Out> {
        // SAFETY: `fut` is structurally pinned: `Discard` never moves it
        // out, has no `Drop` impl, and is `Unpin` only when `F` is.
        let fut = unsafe { self.map_unchecked_mut(|d| &mut d.fut) };
        fut.poll(cx).map(N::wrap)
    }
}

/// Any other awaited value is left alone.
pub trait AwaitPlain<T> {
    fn __bind_await<W>(self, cx: Cx<'_, W>) -> T;
    fn __bind_owned<W>(self, own: Owned<W>) -> T;
    fn __bind_discard<W>(self, cx: Cx<'_, W>) -> T;
}

impl<T> AwaitPlain<T> for &AwaitProbe<T> {
    #[inline(always)]
    fn __bind_await<W>(self, _cx: Cx<'_, W>) -> T {
        self.take()
    }
    #[inline(always)]
    fn __bind_owned<W>(self, _own: Owned<W>) -> T {
        self.take()
    }
    #[inline(always)]
    fn __bind_discard<W>(self, _cx: Cx<'_, W>) -> T {
        self.take()
    }
}

/// The probe traits, imported anonymously by generated code.
pub mod prelude {
    pub use super::{AwaitPlain as _, AwaitViaCx as _};
    pub use super::{
        Plain0 as _, Plain1 as _, Plain2 as _, Plain3 as _, Plain4 as _, Plain5 as _, Plain6 as _,
        Plain7 as _, Plain8 as _, Plain9 as _, Plain10 as _, Plain11 as _, Plain12 as _,
        Plain13 as _, Plain14 as _, Plain15 as _, Plain16 as _,
    };
    pub use super::{
        ValuePlain as _, ValueViaCx1 as _, ValueViaCx2 as _, ValueViaCx3 as _, ValueViaCx4 as _,
        ValueViaCx5 as _, ValueViaCx6 as _,
    };
    pub use super::{
        ViaCx0 as _, ViaCx1 as _, ViaCx2 as _, ViaCx3 as _, ViaCx4 as _, ViaCx5 as _, ViaCx6 as _,
        ViaCx7 as _, ViaCx8 as _, ViaCx9 as _, ViaCx10 as _, ViaCx11 as _, ViaCx12 as _,
        ViaCx13 as _, ViaCx14 as _, ViaCx15 as _, ViaCx16 as _,
    };
    pub use super::{
        ViaRecv1 as _, ViaRecv2 as _, ViaRecv3 as _, ViaRecv4 as _, ViaRecv5 as _, ViaRecv6 as _,
        ViaRecv7 as _, ViaRecv8 as _, ViaRecv9 as _, ViaRecv10 as _, ViaRecv11 as _,
        ViaRecv12 as _, ViaRecv13 as _, ViaRecv14 as _, ViaRecv15 as _, ViaRecv16 as _,
    };
    #[cfg(feature = "tokio")]
    pub use crate::boundary::AdoptHandle as _;
    pub use crate::boundary::AdoptPlain as _;
    #[cfg(feature = "tokio")]
    pub use crate::check::SpawnOnTokioJoinSet as _;
    #[cfg(feature = "tokio")]
    pub use crate::join_set::AdoptJoinSet as _;
}
