//! Attributes and visibility next to `#[ctx::propagate]`: doc comments,
//! `#[inline]`, `#[must_use]`, `#[allow]`/`#[expect]`, `#[deprecated]`,
//! `#[cold]`, `cfg` and `cfg_attr`, tool attributes, in either order; and
//! `pub(crate)`, `pub(super)`, `pub(in path)`, `pub(self)` and private fns
//! in nested modules. (`#[tracing::instrument]` is covered by the root
//! crate's tests: these crates have no tracing dependency.)

use super::{ann, hits, hits_now, request_id, user};

/// Greets the current user.
///
/// A doc comment of several lines, with a code block:
///
/// ```text
/// att01_doc_comment("hi")
/// ```
#[ctx::propagate(user)]
pub fn att01_doc_comment(greeting: &str) -> String {
    format!("{} {}", greeting, *user)
}

#[inline]
#[ctx::propagate(user)]
pub fn att02_inline_above() -> usize {
    user.len()
}

#[ctx::propagate(user)]
#[inline]
pub fn att03_inline_below() -> usize {
    user.len() * 2
}

#[inline(always)]
#[ctx::propagate(request_id)]
pub fn att04_inline_always() -> u64 {
    *request_id + 1
}

#[inline(never)]
#[ctx::propagate(request_id)]
pub fn att05_inline_never() -> u64 {
    *request_id + 2
}

#[must_use]
#[ctx::propagate(user)]
pub fn att06_must_use() -> String {
    user.to_uppercase()
}

#[must_use = "the greeting is the point"]
#[ctx::propagate(user)]
pub fn att07_must_use_reason() -> String {
    format!("hey {}", *user)
}

#[allow(unused_variables)]
#[ctx::propagate(user)]
pub fn att08_allow(unused: u32) -> String {
    user.clone()
}

#[ctx::propagate(user)]
#[expect(unused_variables)]
pub fn att09_expect(unused: u32) -> String {
    user.chars().rev().collect()
}

#[deprecated(note = "a shape that is deprecated")]
#[ctx::propagate(user)]
pub fn att10_deprecated() -> String {
    format!("old {}", *user)
}

#[cold]
#[ctx::propagate(user)]
pub fn att11_cold() -> String {
    format!("rare {}", *user)
}

#[cfg(not(any()))]
#[ctx::propagate(user)]
pub fn att12_cfg_enabled() -> String {
    format!("on {}", *user)
}

#[cfg(any())]
#[ctx::propagate(user)]
pub fn att12_cfg_enabled() -> String {
    compile_error!("a cfg'd-out item is not expanded")
}

#[ctx::propagate(user)]
#[cfg(not(any()))]
pub fn att13_cfg_below() -> String {
    format!("below {}", *user)
}

#[cfg_attr(all(), inline)]
#[cfg_attr(any(), must_use)]
#[ctx::propagate(user)]
pub fn att14_cfg_attr() -> usize {
    user.len() + 10
}

#[rustfmt::skip]
#[ctx::propagate(user)]
pub fn att15_tool_attribute() -> String { format!( "skip {}" , * user ) }

#[doc = "A doc attribute written out."]
#[doc(alias = "att16")]
#[ctx::propagate(user)]
pub fn att16_doc_attribute() -> String {
    format!("doc {}", *user)
}

#[doc(hidden)]
#[ctx::propagate(user)]
pub fn att17_doc_hidden() -> String {
    format!("hidden {}", *user)
}

/// Many attributes on both sides.
#[inline]
#[must_use]
#[allow(clippy::let_and_return)]
#[ctx::propagate(user, mut hits)]
#[allow(clippy::needless_return)]
#[cfg(not(any()))]
pub fn att18_many_attributes() -> String {
    ctx::set!(hits, *hits + 1);
    let out = format!("{}:{}", *user, *hits);
    return out;
}

#[ctx::propagate(user)]
pub(crate) fn att19_pub_crate() -> String {
    format!("crate {}", *user)
}

#[ctx::propagate(user)]
#[allow(clippy::needless_pub_self)]
pub(self) fn att20_pub_self() -> String {
    format!("self {}", *user)
}

#[ctx::propagate(user)]
fn att21_private() -> String {
    format!("private {}", *user)
}

pub mod inner {
    use super::super::user;

    #[ctx::propagate(user)]
    pub(super) fn att22_pub_super() -> String {
        format!("super {}", *user)
    }

    #[ctx::propagate(user)]
    pub(in crate::shapes) fn att23_pub_in_path() -> String {
        format!("in {}", *user)
    }

    #[ctx::propagate(user)]
    fn att24_private_in_module() -> String {
        format!("mod {}", *user)
    }

    #[ctx::propagate(user)]
    pub fn att25_calls_private_sibling() -> String {
        att24_private_in_module()
    }

    pub mod deeper {
        use super::super::super::user;

        #[ctx::propagate(user)]
        pub(in crate::shapes::attributes) fn att26_deep_pub_in() -> String {
            format!("deep {}", *user)
        }
    }

    #[ctx::propagate(user)]
    pub fn att27_calls_nested_module_path() -> String {
        format!("{}!", self::deeper::att26_deep_pub_in())
    }
}

#[ctx::propagate(user)]
pub fn att28_use_inside_body() -> String {
    use std::fmt::Write;
    let mut s = String::new();
    write!(s, "w {}", *user).unwrap();
    s
}

#[ctx::propagate(user)]
#[allow(non_snake_case)]
pub fn att29_NonSnakeCase() -> String {
    format!("Snake {}", *user)
}

/// A `#[must_use]` trait method: the declaration and the impl agree
/// whether or not the impl repeats the attribute.
pub trait Att30Greeter {
    #[must_use]
    #[ctx::propagate(user)]
    fn att30_greet(&self) -> String;

    #[ctx::propagate(user)]
    fn att30_plain(&self) -> String;
}

pub struct Att30;

impl Att30Greeter for Att30 {
    #[ctx::propagate(user)]
    fn att30_greet(&self) -> String {
        format!("hi {}", *user)
    }

    #[ctx::propagate(user)]
    fn att30_plain(&self) -> String {
        format!("plain {}", *user)
    }
}

/// `#[must_use]` callees used as a value, discarded with `let _`, and
/// called as a statement when the result is not `#[must_use]`.
#[ctx::propagate(user)]
pub fn att31_calls_must_use() -> String {
    let _ = att06_must_use();
    Att30::att30_plain(&Att30);
    let g = Att30::att30_greet(&Att30);
    format!("{g} {}", att07_must_use_reason())
}

#[allow(deprecated)]
pub fn check() {
    assert_eq!(ctx::with!(ann(), { att01_doc_comment("hi") }), "hi ann");
    assert_eq!(ctx::with!(ann(), { att02_inline_above() }), 3);
    assert_eq!(ctx::with!(ann(), { att03_inline_below() }), 6);
    assert_eq!(ctx::with!(ann(), { att04_inline_always() }), 8);
    assert_eq!(ctx::with!(ann(), { att05_inline_never() }), 9);
    assert_eq!(ctx::with!(ann(), { att06_must_use() }), "ANN");
    assert_eq!(ctx::with!(ann(), { att07_must_use_reason() }), "hey ann");
    assert_eq!(ctx::with!(ann(), { att08_allow(1) }), "ann");
    assert_eq!(ctx::with!(ann(), { att09_expect(1) }), "nna");
    assert_eq!(ctx::with!(ann(), { att10_deprecated() }), "old ann");
    assert_eq!(ctx::with!(ann(), { att11_cold() }), "rare ann");
    assert_eq!(ctx::with!(ann(), { att12_cfg_enabled() }), "on ann");
    assert_eq!(ctx::with!(ann(), { att13_cfg_below() }), "below ann");
    assert_eq!(ctx::with!(ann(), { att14_cfg_attr() }), 13);
    assert_eq!(ctx::with!(ann(), { att15_tool_attribute() }), "skip ann");
    assert_eq!(ctx::with!(ann(), { att16_doc_attribute() }), "doc ann");
    assert_eq!(ctx::with!(ann(), { att17_doc_hidden() }), "hidden ann");
    assert_eq!(
        ctx::with!(ann(), { (att18_many_attributes(), hits_now()) }),
        ("ann:1".to_string(), 1)
    );
    assert_eq!(ctx::with!(ann(), { att19_pub_crate() }), "crate ann");
    assert_eq!(ctx::with!(ann(), { att20_pub_self() }), "self ann");
    assert_eq!(ctx::with!(ann(), { att21_private() }), "private ann");
    assert_eq!(ctx::with!(ann(), { inner::att22_pub_super() }), "super ann");
    assert_eq!(ctx::with!(ann(), { inner::att23_pub_in_path() }), "in ann");
    assert_eq!(
        ctx::with!(ann(), { inner::att25_calls_private_sibling() }),
        "mod ann"
    );
    assert_eq!(
        ctx::with!(ann(), { inner::deeper::att26_deep_pub_in() }),
        "deep ann"
    );
    assert_eq!(
        ctx::with!(ann(), { inner::att27_calls_nested_module_path() }),
        "deep ann!"
    );
    assert_eq!(ctx::with!(ann(), { att28_use_inside_body() }), "w ann");
    assert_eq!(ctx::with!(ann(), { att29_NonSnakeCase() }), "Snake ann");
    assert_eq!(
        ctx::with!(ann(), { att31_calls_must_use() }),
        "hi ann hey ann"
    );
}
