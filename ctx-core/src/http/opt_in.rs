//! Which keys travel as baggage, in which direction: the marker traits
//! `keys!` implements for `#[baggage(accept)]` and `#[baggage(send)]`, the
//! string form of values, and the key sets the layers are given.

use crate::ambient::current;
use crate::check::Has;
use crate::frame::Entry;
use crate::key::Key;

use super::baggage::{Baggage, BaggageError, Limits};
use ::http::HeaderMap;

/// A value that travels as a baggage string. `None` from
/// [`to_baggage`](Self::to_baggage) sends nothing; `None` from
/// [`from_baggage`](Self::from_baggage) ignores the member. An
/// `Option<T>` is absent when `None`.
///
/// ```
/// use ctx::http::BaggageValue;
///
/// assert_eq!(42u64.to_baggage().as_deref(), Some("42"));
/// assert_eq!(u64::from_baggage("x"), None);
/// assert_eq!(Option::<String>::None.to_baggage(), None);
/// assert_eq!(Option::<String>::from_baggage("ann"), Some(Some("ann".into())));
/// ```
pub trait BaggageValue: Sized {
    /// The string sent, if any.
    fn to_baggage(&self) -> Option<String>;
    /// The value read from a received string, if it is one.
    fn from_baggage(s: &str) -> Option<Self>;
}

macro_rules! via_from_str {
    ($($t:ty)*) => {$(
        impl BaggageValue for $t {
            fn to_baggage(&self) -> Option<String> {
                Some(self.to_string())
            }
            fn from_baggage(s: &str) -> Option<Self> {
                s.parse().ok()
            }
        }
    )*};
}
via_from_str!(String bool char u8 u16 u32 u64 u128 usize i8 i16 i32 i64 i128 isize);

impl<T: BaggageValue> BaggageValue for Option<T> {
    fn to_baggage(&self) -> Option<String> {
        self.as_ref().and_then(T::to_baggage)
    }
    fn from_baggage(s: &str) -> Option<Self> {
        T::from_baggage(s).map(Some)
    }
}

/// A key read from the `baggage` header of inbound requests, by a
/// [`ContextLayer`](super::ContextLayer) that lists it in
/// `accept_baggage`. Declared with `#[baggage(accept)]` in `ctx::keys!`;
/// a key without it is never read from a request.
///
/// ```
/// ctx::keys! {
///     #[baggage(accept, send)] pub tenant: String;
/// }
/// fn accepted<K: ctx::http::AcceptBaggage>() {}
/// accepted::<tenant>();
/// ```
///
/// A layer cannot accept a key declared without it:
///
/// ```compile_fail,E0277
/// ctx::keys! { #[baggage(send)] pub user: String; }
/// #[derive(ctx::ContextFields)]
/// struct Req { user: String }
///
/// // error: key `user` is not accepted from inbound baggage
/// fn accepts<A: ctx::http::AcceptKeys<Req>>() {}
/// accepts::<(user,)>();
/// ```
#[diagnostic::on_unimplemented(
    message = "key `{Self}` is not accepted from inbound baggage",
    label = "a client could set `{Self}`",
    note = "declare it `#[baggage(accept)]` in `ctx::keys!` if clients may set it"
)]
pub trait AcceptBaggage: Key<Value: BaggageValue> {}

/// A key written to the `baggage` header of outbound requests by a
/// [`BaggageLayer`](super::BaggageLayer) or [`inject`](super::inject) that
/// lists it. Declared with `#[baggage(send)]` in `ctx::keys!`.
///
/// ```
/// ctx::keys! {
///     #[baggage(send)] pub request_id: u64;
/// }
/// fn sent<K: ctx::http::SendBaggage>() {}
/// sent::<request_id>();
/// ```
#[diagnostic::on_unimplemented(
    message = "key `{Self}` is not sent as outbound baggage",
    label = "not declared `#[baggage(send)]`",
    note = "declare it `#[baggage(send)]` in `ctx::keys!` to send it to other services"
)]
pub trait SendBaggage: Key<Value: BaggageValue> {}

/// A tuple of up to 8 [`AcceptBaggage`] keys of the root `R`: what a
/// [`ContextLayer`](super::ContextLayer) reads from a request's baggage.
///
/// ```
/// ctx::keys! { #[baggage(accept)] pub tenant: String; }
/// #[derive(ctx::ContextFields)]
/// struct Req { tenant: String }
/// fn set<A: ctx::http::AcceptKeys<Req>>() {}
/// set::<(tenant,)>();
/// ```
pub trait AcceptKeys<R> {
    /// Adds the entries of the keys the baggage carries with a valid value.
    #[doc(hidden)]
    fn __accept(
        headers: &HeaderMap,
        limits: &Limits,
        out: &mut Vec<Entry>,
    ) -> Result<(), BaggageError>;
}

impl<R> AcceptKeys<R> for () {
    fn __accept(_: &HeaderMap, _: &Limits, _: &mut Vec<Entry>) -> Result<(), BaggageError> {
        Ok(())
    }
}

/// A tuple of up to 8 [`SendBaggage`] keys: what a
/// [`BaggageLayer`](super::BaggageLayer) sends.
///
/// ```
/// ctx::keys! { #[baggage(send)] pub tenant: String; }
/// fn set<S: ctx::http::SendKeys>() {}
/// set::<(tenant,)>();
/// ```
pub trait SendKeys {
    /// Sets the keys the current context has (and whose value gives a
    /// string) in `bag`.
    #[doc(hidden)]
    fn __send(bag: &mut Baggage);
}

impl SendKeys for () {
    fn __send(_: &mut Baggage) {}
}

fn accept_one<K: AcceptBaggage>(bag: &Baggage, out: &mut Vec<Entry>) {
    if let Some(v) = bag.get(K::info().name()).and_then(K::Value::from_baggage) {
        out.push(Entry::new::<K>(v));
    }
}

fn send_one<K: SendBaggage>(bag: &mut Baggage) {
    if let Some(s) = current::<K>().and_then(|v| v.to_baggage()) {
        // A key's name is a Rust identifier, so an HTTP token.
        let _ = bag.insert(K::info().name(), &s);
    }
}

macro_rules! key_sets {
    ($($K:ident)+) => {
        impl<R, $($K: AcceptBaggage),+> AcceptKeys<R> for ($($K,)+)
        where
            $(R: Has<$K>,)+
        {
            fn __accept(
                headers: &HeaderMap,
                limits: &Limits,
                out: &mut Vec<Entry>,
            ) -> Result<(), BaggageError> {
                if !headers.contains_key(super::baggage::HEADER) {
                    return Ok(());
                }
                let bag = Baggage::from_headers(headers, limits)?;
                $(accept_one::<$K>(&bag, out);)+
                Ok(())
            }
        }

        impl<$($K: SendBaggage),+> SendKeys for ($($K,)+) {
            fn __send(bag: &mut Baggage) {
                $(send_one::<$K>(bag);)+
            }
        }
    };
}
key_sets!(A);
key_sets!(A B);
key_sets!(A B C);
key_sets!(A B C D);
key_sets!(A B C D E);
key_sets!(A B C D E F);
key_sets!(A B C D E F G);
key_sets!(A B C D E F G H);
