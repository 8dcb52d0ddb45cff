#![doc = include_str!("../README.md")]

pub use ctx_core::*;

/// Declares context keys.
pub use ctx_macros::keys;

/// Makes a function receive the listed context values.
pub use ctx_macros::propagate;

/// Makes a struct a root.
pub use ctx_macros::ContextFields;

/// Runs a block in the context of a root.
pub use ctx_macros::with;

/// Changes a `mut` context value.
pub use ctx_macros::set;

/// Binds a propagated future to the current context without awaiting it.
pub use ctx_macros::bind;

#[doc(hidden)]
pub mod __private {
    pub use ctx_core::__private::*;
    pub use ctx_macros::with_keys;
}
