//! Receivers: `self`, `&self`, `&mut self`, `mut self`, `self: Box<Self>`,
//! `Arc<Self>`, `Rc<Self>`, `Pin<&mut Self>`, associated fns and consts,
//! trait methods (required, default bodies, overridden, generic, associated
//! types), generic impls and impls of a local trait for foreign types.
//! Sync propagated methods are called with path syntax.

use super::{ann, request_id, user};
use std::fmt::Display;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;

pub struct Account {
    pub owner: String,
    pub balance: u64,
}

impl Account {
    pub const BONUS: u64 = 100;

    #[ctx::propagate(user)]
    pub fn rcv01_associated_new(balance: u64) -> Self {
        Account {
            owner: user.clone(),
            balance,
        }
    }

    #[ctx::propagate(user)]
    pub fn rcv02_by_ref(&self) -> String {
        format!("{}/{}", self.owner, *user)
    }

    #[ctx::propagate(request_id)]
    pub fn rcv03_by_mut(&mut self) -> u64 {
        self.balance += *request_id;
        self.balance
    }

    #[ctx::propagate(user)]
    pub fn rcv04_by_value(self) -> String {
        format!("{}+{}", self.owner, *user)
    }

    #[ctx::propagate(request_id)]
    pub fn rcv05_mut_self_binding(mut self) -> u64 {
        self.balance *= *request_id;
        self.balance
    }

    #[ctx::propagate(user)]
    #[allow(clippy::boxed_local)]
    pub fn rcv06_box_self(self: Box<Self>) -> String {
        format!("box {} {}", self.owner, *user)
    }

    #[ctx::propagate(user)]
    pub fn rcv07_arc_self(self: Arc<Self>) -> String {
        format!("arc{} {}", Arc::strong_count(&self), *user)
    }

    #[ctx::propagate(user)]
    pub fn rcv08_rc_self(self: Rc<Self>) -> String {
        format!("rc{} {}", Rc::strong_count(&self), *user)
    }

    #[ctx::propagate(request_id)]
    pub fn rcv09_pin_mut_self(self: Pin<&mut Self>) -> u64 {
        let this = self.get_mut();
        this.balance += *request_id * 2;
        this.balance
    }

    #[ctx::propagate(user)]
    #[allow(clippy::needless_arbitrary_self_type)]
    pub fn rcv10_explicit_ref_self(self: &Self) -> String {
        format!("{}={}", self.owner, *user)
    }

    #[ctx::propagate(user)]
    #[allow(clippy::needless_arbitrary_self_type)]
    pub fn rcv11_explicit_mut_self(self: &mut Self) {
        self.owner.push_str(user);
    }

    #[ctx::propagate(user, request_id)]
    pub fn rcv12_calls_sibling(&self) -> String {
        format!(
            "{}|{}",
            Self::rcv02_by_ref(self),
            Account::rcv14_assoc_const(self)
        )
    }

    #[ctx::propagate(user)]
    pub fn rcv13_returns_borrow(&self) -> &str {
        &self.owner[..user.len().min(self.owner.len())]
    }

    #[ctx::propagate(request_id)]
    pub fn rcv14_assoc_const(&self) -> u64 {
        Self::BONUS + *request_id
    }

    #[ctx::propagate(user)]
    pub fn rcv15_lifetime_method<'a>(&'a self, other: &'a str) -> &'a str {
        if self.owner == *user {
            other
        } else {
            &self.owner
        }
    }

    #[ctx::propagate(user)]
    pub fn rcv16_generic_method<T: Display>(&self, t: T) -> String {
        format!("{}:{}:{}", self.owner, t, *user)
    }

    #[ctx::propagate(user)]
    pub fn rcv17_builder(mut self, s: &str) -> Self {
        self.owner = format!("{}{}{}", self.owner, s, user.len());
        self
    }

    #[ctx::propagate(request_id)]
    pub fn rcv18_self_typed_param(&self, other: &Self) -> u64 {
        self.balance + other.balance + *request_id
    }
}

pub trait Greeter {
    #[ctx::propagate(user)]
    fn rcv19_required(&self) -> String;

    #[ctx::propagate(user)]
    fn rcv20_default_body(&self) -> String {
        format!("default({})", Self::rcv19_required(self))
    }

    #[ctx::propagate(user)]
    fn rcv21_overridden(&self) -> String {
        format!("base {}", *user)
    }

    #[ctx::propagate(user)]
    fn rcv22_trait_associated_fn() -> Self
    where
        Self: Sized;

    #[ctx::propagate(user)]
    fn rcv23_generic_trait_method<T: Display>(&self, t: T) -> String {
        format!("{}<{}>", *user, t)
    }

    #[ctx::propagate(user)]
    fn rcv24_by_value_default(self) -> String
    where
        Self: Sized,
    {
        format!("consumed by {}", *user)
    }

    #[ctx::propagate(request_id)]
    fn rcv25_mut_trait_method(&mut self) -> u64;
}

impl Greeter for Account {
    #[ctx::propagate(user)]
    fn rcv19_required(&self) -> String {
        format!("{} greets {}", self.owner, *user)
    }

    #[ctx::propagate(user)]
    fn rcv21_overridden(&self) -> String {
        format!("account {}", *user)
    }

    #[ctx::propagate(user)]
    fn rcv22_trait_associated_fn() -> Self {
        Account {
            owner: format!("made-{}", *user),
            balance: 0,
        }
    }

    #[ctx::propagate(request_id)]
    fn rcv25_mut_trait_method(&mut self) -> u64 {
        self.balance += *request_id;
        self.balance
    }
}

pub struct Wrapper<T>(pub T);

impl<T: Display> Wrapper<T> {
    #[ctx::propagate(user)]
    pub fn rcv26_generic_impl(&self) -> String {
        format!("[{}|{}]", self.0, *user)
    }
}

impl<T> Wrapper<T>
where
    T: Clone + Into<u64>,
{
    #[ctx::propagate(request_id)]
    pub fn rcv27_where_impl(&self) -> u64 {
        self.0.clone().into() * *request_id
    }
}

impl<T: Display> Greeter for Wrapper<T> {
    #[ctx::propagate(user)]
    fn rcv19_required(&self) -> String {
        format!("wrapper {} greets {}", self.0, *user)
    }

    #[ctx::propagate(user)]
    fn rcv22_trait_associated_fn() -> Self {
        unreachable!("{} never builds a wrapper", *user)
    }

    #[ctx::propagate(request_id)]
    fn rcv25_mut_trait_method(&mut self) -> u64 {
        *request_id
    }
}

pub trait Tally {
    #[ctx::propagate(request_id)]
    fn rcv28_foreign_type_impl(&self) -> u64;
}

impl Tally for u32 {
    #[ctx::propagate(request_id)]
    fn rcv28_foreign_type_impl(&self) -> u64 {
        u64::from(*self) + *request_id
    }
}

impl Tally for str {
    #[ctx::propagate(request_id)]
    fn rcv28_foreign_type_impl(&self) -> u64 {
        self.len() as u64 * *request_id
    }
}

pub trait Source {
    type Out;

    #[ctx::propagate(user)]
    fn rcv29_associated_type(&self) -> Self::Out;
}

impl Source for Account {
    type Out = (String, u64);

    #[ctx::propagate(user)]
    fn rcv29_associated_type(&self) -> (String, u64) {
        (user.clone(), self.balance)
    }
}

pub trait Convert<T> {
    #[ctx::propagate(user)]
    fn rcv30_generic_trait(&self, t: T) -> String;
}

impl Convert<u8> for Account {
    #[ctx::propagate(user)]
    fn rcv30_generic_trait(&self, t: u8) -> String {
        format!("{}#{}", *user, t)
    }
}

pub enum Mode {
    Quiet,
    Loud(u32),
}

impl Mode {
    #[ctx::propagate(user)]
    pub fn rcv31_enum_match_self(&self) -> String {
        match self {
            Mode::Quiet => user.clone(),
            Mode::Loud(n) => format!("{}{}", user.to_uppercase(), n),
        }
    }
}

pub struct Id(pub u64);

impl Id {
    #[ctx::propagate(request_id)]
    pub fn rcv32_tuple_struct(&self) -> u64 {
        self.0 + *request_id
    }
}

pub struct Named<'a> {
    pub name: &'a str,
}

impl<'a> Named<'a> {
    #[ctx::propagate(user)]
    pub fn rcv33_impl_with_lifetime(&self) -> &'a str {
        if user.is_empty() {
            return "";
        }
        self.name
    }
}

#[ctx::propagate(user)]
pub fn rcv34_static_dispatch<G: Greeter>(g: &G) -> String {
    G::rcv19_required(g)
}

fn account(owner: &str, balance: u64) -> Account {
    Account {
        owner: owner.into(),
        balance,
    }
}

pub fn check() {
    let a = ctx::with!(ann(), { Account::rcv01_associated_new(5) });
    assert_eq!((a.owner.as_str(), a.balance), ("ann", 5));
    let a = account("bo", 1);
    assert_eq!(ctx::with!(ann(), { Account::rcv02_by_ref(&a) }), "bo/ann");
    let mut m = account("bo", 1);
    assert_eq!(ctx::with!(ann(), { Account::rcv03_by_mut(&mut m) }), 8);
    assert_eq!(m.balance, 8);
    assert_eq!(
        ctx::with!(ann(), { Account::rcv04_by_value(account("bo", 1)) }),
        "bo+ann"
    );
    assert_eq!(
        ctx::with!(ann(), { Account::rcv05_mut_self_binding(account("bo", 3)) }),
        21
    );
    assert_eq!(
        ctx::with!(ann(), {
            Account::rcv06_box_self(Box::new(account("bo", 0)))
        }),
        "box bo ann"
    );
    let shared = Arc::new(account("bo", 0));
    assert_eq!(
        ctx::with!(ann(), { Account::rcv07_arc_self(shared.clone()) }),
        "arc2 ann"
    );
    let shared = Rc::new(account("bo", 0));
    assert_eq!(
        ctx::with!(ann(), { Account::rcv08_rc_self(Rc::clone(&shared)) }),
        "rc2 ann"
    );
    let mut p = account("bo", 1);
    assert_eq!(
        ctx::with!(ann(), { Account::rcv09_pin_mut_self(Pin::new(&mut p)) }),
        15
    );
    assert_eq!(
        ctx::with!(ann(), { Account::rcv10_explicit_ref_self(&a) }),
        "bo=ann"
    );
    let mut e = account("bo-", 0);
    ctx::with!(ann(), { Account::rcv11_explicit_mut_self(&mut e) });
    assert_eq!(e.owner, "bo-ann");
    assert_eq!(
        ctx::with!(ann(), { Account::rcv12_calls_sibling(&a) }),
        "bo/ann|107"
    );
    let long = account("abcdef", 0);
    assert_eq!(
        ctx::with!(ann(), { Account::rcv13_returns_borrow(&long) }),
        "abc"
    );
    assert_eq!(ctx::with!(ann(), { Account::rcv14_assoc_const(&a) }), 107);
    let same = account("ann", 0);
    assert_eq!(
        ctx::with!(ann(), { Account::rcv15_lifetime_method(&same, "me") }),
        "me"
    );
    assert_eq!(
        ctx::with!(ann(), { Account::rcv15_lifetime_method(&a, "me") }),
        "bo"
    );
    assert_eq!(
        ctx::with!(ann(), { Account::rcv16_generic_method(&a, 1.5) }),
        "bo:1.5:ann"
    );
    let built = ctx::with!(ann(), {
        Account::rcv17_builder(Account::rcv17_builder(account("b", 0), "x"), "y")
    });
    assert_eq!(built.owner, "bx3y3");
    assert_eq!(
        ctx::with!(ann(), {
            Account::rcv18_self_typed_param(&account("x", 1), &account("y", 2))
        }),
        10
    );
    assert_eq!(
        ctx::with!(ann(), { <Account as Greeter>::rcv19_required(&a) }),
        "bo greets ann"
    );
    assert_eq!(
        ctx::with!(ann(), { Greeter::rcv20_default_body(&a) }),
        "default(bo greets ann)"
    );
    assert_eq!(
        ctx::with!(ann(), { Account::rcv21_overridden(&a) }),
        "account ann"
    );
    assert_eq!(
        ctx::with!(ann(), { Wrapper::rcv21_overridden(&Wrapper(1)) }),
        "base ann"
    );
    let made: Account = ctx::with!(ann(), { Greeter::rcv22_trait_associated_fn() });
    assert_eq!(made.owner, "made-ann");
    assert_eq!(
        ctx::with!(ann(), { Account::rcv23_generic_trait_method(&a, 'z') }),
        "ann<z>"
    );
    assert_eq!(
        ctx::with!(ann(), {
            <Account as Greeter>::rcv24_by_value_default(account("x", 0))
        }),
        "consumed by ann"
    );
    let mut g = account("g", 1);
    assert_eq!(
        ctx::with!(ann(), { Greeter::rcv25_mut_trait_method(&mut g) }),
        8
    );
    let mut w = Wrapper("w");
    assert_eq!(
        ctx::with!(ann(), { Greeter::rcv25_mut_trait_method(&mut w) }),
        7
    );
    assert_eq!(
        ctx::with!(ann(), { Wrapper::rcv26_generic_impl(&Wrapper(3)) }),
        "[3|ann]"
    );
    assert_eq!(
        ctx::with!(ann(), { Wrapper::rcv27_where_impl(&Wrapper(6u8)) }),
        42
    );
    assert_eq!(
        ctx::with!(ann(), { Greeter::rcv20_default_body(&Wrapper("w")) }),
        "default(wrapper w greets ann)"
    );
    assert_eq!(
        ctx::with!(ann(), { Tally::rcv28_foreign_type_impl(&3u32) }),
        10
    );
    assert_eq!(
        ctx::with!(ann(), { <str as Tally>::rcv28_foreign_type_impl("abc") }),
        21
    );
    let src = account("s", 9);
    assert_eq!(
        ctx::with!(ann(), { Source::rcv29_associated_type(&src) }),
        ("ann".to_string(), 9)
    );
    assert_eq!(
        ctx::with!(ann(), { Convert::rcv30_generic_trait(&a, 4u8) }),
        "ann#4"
    );
    assert_eq!(
        ctx::with!(ann(), { Mode::rcv31_enum_match_self(&Mode::Quiet) }),
        "ann"
    );
    assert_eq!(
        ctx::with!(ann(), { Mode::rcv31_enum_match_self(&Mode::Loud(2)) }),
        "ANN2"
    );
    assert_eq!(ctx::with!(ann(), { Id::rcv32_tuple_struct(&Id(1)) }), 8);
    let n = Named { name: "nm" };
    assert_eq!(
        ctx::with!(ann(), { Named::rcv33_impl_with_lifetime(&n) }),
        "nm"
    );
    assert_eq!(
        ctx::with!(ann(), { rcv34_static_dispatch(&Wrapper(5)) }),
        "wrapper 5 greets ann"
    );
}

// Not yet supported (valid Rust that fails with `#[ctx::propagate]`):
//
// A trait method taking `self` by value, called through the trait's path
// with `Self` inferred from the argument (error[E0277]: the trait bound
// `ctx::__private::Cx<'_, _>: Greeter` is not satisfied; error[E0308]:
// expected `Cx<'_, (user,)>`, found `Account`). `<Account as
// Greeter>::rcv24_by_value_default(a)` and `Greeter::m(&a)` work:
//
//     Greeter::rcv24_by_value_default(account("x", 0))
