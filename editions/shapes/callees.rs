//! Callees: what a propagated body calls besides propagated fns by name —
//! tuple-struct and enum-variant constructors (also as values), `const fn`s,
//! local `FnOnce` closures and boxed `FnOnce`s, `FnMut` parameters, closures
//! stored in fields, nested closures, closures handed to plain fns, paths
//! through `self::`, `super::` and `crate::`, generic fns with turbofish,
//! `T::assoc()` on a type parameter, std macros by path, calls in the guard
//! of `matches!`.

use super::{ann, tag, user};

pub struct Id(pub u64);

pub enum Mode {
    Loud(u32),
}

pub struct Callback {
    pub f: Box<dyn Fn(u32) -> u32>,
}

pub trait Make {
    #[ctx::propagate(user)]
    fn make() -> Self;
}

impl Make for String {
    #[ctx::propagate(user)]
    fn make() -> Self {
        format!("made {}", *user)
    }
}

const fn double(x: u32) -> u32 {
    x * 2
}

fn apply_all(xs: &[u32], f: impl Fn(u32) -> String) -> Vec<String> {
    xs.iter().map(|&x| f(x)).collect()
}

pub mod nested {
    use super::super::user;

    #[ctx::propagate(user)]
    pub fn inner() -> String {
        format!("inner {}", *user)
    }

    #[ctx::propagate(user)]
    pub fn cal01_super_path() -> String {
        super::tag(1)
    }
}

#[ctx::propagate(user)]
pub fn cal02_self_and_crate_paths() -> String {
    format!(
        "{}|{}|{}",
        self::nested::inner(),
        crate::shapes::callees::nested::inner(),
        nested::inner()
    )
}

#[ctx::propagate(user)]
pub fn cal03_constructors_as_calls() -> (u64, u32) {
    let id = Id(user.len() as u64);
    let Mode::Loud(n) = Mode::Loud(id.0 as u32 * 2);
    (id.0, n)
}

#[ctx::propagate(user)]
pub fn cal04_constructor_as_value() -> Vec<Option<usize>> {
    vec![user.len(), 1].into_iter().map(Some).collect()
}

#[ctx::propagate(user)]
pub fn cal05_const_fn() -> u32 {
    double(user.len() as u32)
}

#[ctx::propagate(user)]
pub fn cal06_fnonce_locals() -> String {
    let s = user.clone();
    let f = move || s;
    let b: Box<dyn FnOnce() -> String> = Box::new(|| format!("boxed {}", *user));
    format!("{} {}", f(), b())
}

#[ctx::propagate(user)]
pub fn cal07_fnmut_param(mut f: impl FnMut() -> u32) -> String {
    let a = f();
    let b = f();
    format!("{}{}{}", *user, a, b)
}

#[ctx::propagate(user)]
pub fn cal08_closure_in_field(cb: &Callback) -> String {
    format!("{}{}", *user, (cb.f)(user.len() as u32))
}

#[ctx::propagate(user)]
pub fn cal09_nested_closures() -> String {
    let outer = |a: u32| {
        let inner = |b: u32| tag(a + b);
        inner(1)
    };
    outer(1)
}

#[ctx::propagate(user)]
pub fn cal10_closure_to_plain_fn() -> Vec<String> {
    apply_all(&[1, 2], |x| tag(x))
}

#[ctx::propagate(user)]
pub fn cal11_turbofish_generic<T: Default + std::fmt::Debug>() -> String {
    format!("{:?}{}", T::default(), *user)
}

#[ctx::propagate(user)]
pub fn cal12_calls_turbofish() -> String {
    cal11_turbofish_generic::<Option<u8>>()
}

#[ctx::propagate(user)]
pub fn cal13_assoc_fn_on_type_param<T: Make>() -> T {
    T::make()
}

#[ctx::propagate(user)]
pub fn cal14_std_macros_by_path() -> String {
    let v = std::vec![tag(1)];
    std::assert_eq!(v.len(), 1);
    core::assert!(!v.is_empty());
    std::format!("{}{}", v[0], ::std::format!("{}", tag(2)))
}

#[ctx::propagate(user)]
pub fn cal15_call_result_as_callee() -> String {
    let make = |p: &'static str| move |n: u32| format!("{}{}", p, tag(n));
    make("x")(1)
}

#[ctx::propagate(user)]
pub fn cal16_call_in_matches_guard(prefix: &str) -> (bool, bool) {
    (
        matches!(Some(3), Some(n) if tag(n).starts_with(prefix)),
        std::matches!(Some(prefix), Some(p) if tag(1) == format!("{}1", p)),
    )
}

pub fn check() {
    assert_eq!(ctx::with!(ann(), { nested::cal01_super_path() }), "ann1");
    assert_eq!(
        ctx::with!(ann(), { cal02_self_and_crate_paths() }),
        "inner ann|inner ann|inner ann"
    );
    assert_eq!(ctx::with!(ann(), { cal03_constructors_as_calls() }), (3, 6));
    assert_eq!(
        ctx::with!(ann(), { cal04_constructor_as_value() }),
        [Some(3), Some(1)]
    );
    assert_eq!(ctx::with!(ann(), { cal05_const_fn() }), 6);
    assert_eq!(
        ctx::with!(ann(), { cal06_fnonce_locals() }),
        "ann boxed ann"
    );
    let mut i = 0;
    assert_eq!(
        ctx::with!(ann(), {
            cal07_fnmut_param(move || {
                i += 1;
                i
            })
        }),
        "ann12"
    );
    let cb = Callback {
        f: Box::new(|x| x * 10),
    };
    assert_eq!(ctx::with!(ann(), { cal08_closure_in_field(&cb) }), "ann30");
    assert_eq!(ctx::with!(ann(), { cal09_nested_closures() }), "ann2");
    assert_eq!(
        ctx::with!(ann(), { cal10_closure_to_plain_fn() }),
        ["ann1", "ann2"]
    );
    assert_eq!(
        ctx::with!(ann(), { cal11_turbofish_generic::<u8>() }),
        "0ann"
    );
    assert_eq!(ctx::with!(ann(), { cal12_calls_turbofish() }), "Noneann");
    assert_eq!(
        ctx::with!(ann(), { cal13_assoc_fn_on_type_param::<String>() }),
        "made ann"
    );
    assert_eq!(
        ctx::with!(ann(), { cal14_std_macros_by_path() }),
        "ann1ann2"
    );
    assert_eq!(
        ctx::with!(ann(), { cal15_call_result_as_callee() }),
        "xann1"
    );
    assert_eq!(
        ctx::with!(ann(), { cal16_call_in_matches_guard("ann") }),
        (true, true)
    );
    let bob = super::Req {
        user: "bob".into(),
        ..ann()
    };
    assert_eq!(
        ctx::with!(bob, { cal16_call_in_matches_guard("ann") }),
        (false, false)
    );
}

// Not yet supported (valid Rust that fails with `#[ctx::propagate]`):
//
// A propagated fn passed as a value (error[E0593]: function is expected to
// take 1 argument, but it takes 2 arguments), while `std::thread::spawn(f)`
// works:
//
//     #[ctx::propagate(user)]
//     fn by_value() -> Vec<String> { (1..3).map(tag).collect() }
//
// Calls in the arguments of a local `macro_rules!` (documented: call the
// propagated fn outside the macro) fail with a bare error[E0061] "this
// function takes 2 arguments but 1 argument was supplied":
//
//     #[ctx::propagate(user)]
//     fn in_local_macro() -> String { twice!(tag(1)) }
