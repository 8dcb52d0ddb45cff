//! More trait shapes: blanket impls for `&T`, supertraits whose default
//! bodies call the subtrait's required method, associated consts in
//! default bodies, `impl Trait` arguments and turbofish on trait methods,
//! return-position `impl Trait` in traits, async trait methods with
//! default bodies and through a generic bound, impls for const-generic
//! types and type aliases, `self: &Arc<Self>`, method turbofish, and an
//! impl inside a fn body.

use super::{ann, runtime, user};
use std::fmt::Display;
use std::sync::Arc;

pub trait Named {
    #[ctx::propagate(user)]
    fn trt01_blanket_for_ref(&self) -> String;
}

impl<T: Display> Named for &T {
    #[ctx::propagate(user)]
    fn trt01_blanket_for_ref(&self) -> String {
        format!("ref {} {}", self, *user)
    }
}

pub trait Loud: Named {
    const BANG: &'static str = "!";

    #[ctx::propagate(user)]
    fn trt02_supertrait_default(&self) -> String {
        format!(
            "{}{}",
            Self::trt01_blanket_for_ref(self).to_uppercase(),
            Self::BANG
        )
    }

    #[ctx::propagate(user)]
    fn trt03_impl_trait_arg(&self, x: impl Display) -> String {
        format!("{}{}{}", x, *user, Self::BANG)
    }

    #[ctx::propagate(user)]
    fn trt04_generic_method_turbofish<T: Default + Display>(&self) -> String {
        format!("{}{}", T::default(), *user)
    }

    #[ctx::propagate(user)]
    async fn trt05_async_default_body(&self) -> String {
        format!("later {}", *user)
    }
}

impl<T: Display> Loud for &T {}

pub trait Lister {
    #[ctx::propagate(user)]
    fn trt06_rpitit(&self) -> impl Iterator<Item = String>;
}

pub struct Words(pub Vec<&'static str>);

impl Lister for Words {
    #[ctx::propagate(user)]
    fn trt06_rpitit(&self) -> impl Iterator<Item = String> {
        let u = user.clone();
        self.0
            .clone()
            .into_iter()
            .map(move |w| format!("{}-{}", w, u))
    }
}

pub trait Fetch {
    #[ctx::propagate(user)]
    async fn trt07_async_required(&self) -> String;
}

impl Fetch for Words {
    #[ctx::propagate(user)]
    async fn trt07_async_required(&self) -> String {
        format!("{} words for {}", self.0.len(), *user)
    }
}

#[ctx::propagate(user)]
pub async fn trt08_async_through_bound<F: Fetch>(f: &F) -> String {
    f.trt07_async_required().await
}

pub struct Buf<const N: usize>(pub [u8; N]);

impl<const N: usize> Buf<N> {
    #[ctx::propagate(user)]
    pub fn trt09_const_generic_impl(&self) -> String {
        format!("{}{}", *user, N)
    }
}

pub type Pair = Buf<2>;

pub struct Shared;

impl Shared {
    #[ctx::propagate(user)]
    pub fn trt10_ref_arc_self(self: &Arc<Self>) -> String {
        format!("{} {}", Arc::strong_count(self), *user)
    }

    #[ctx::propagate(user)]
    pub fn trt11_method_generic<T: Default + std::fmt::Debug>(&self) -> String {
        format!("{:?}{}", T::default(), *user)
    }

    #[ctx::propagate(user)]
    pub fn trt12_calls_method_turbofish(&self) -> String {
        Self::trt11_method_generic::<u8>(self)
    }

    #[ctx::propagate(user)]
    pub async fn trt13_async_method_turbofish<T: Default + std::fmt::Debug>(&self) -> String {
        format!("{:?}{}", T::default(), *user)
    }
}

#[ctx::propagate(user)]
pub fn trt14_impl_inside_fn_body() -> String {
    struct Local;
    impl Local {
        #[ctx::propagate(user)]
        fn get(&self) -> String {
            format!("local {}", *user)
        }
    }
    Local::get(&Local)
}

#[ctx::propagate(user)]
pub async fn trt15_calls_async_turbofish() -> String {
    Shared.trt13_async_method_turbofish::<u8>().await
}

pub fn check() {
    let x = 5;
    assert_eq!(
        ctx::with!(ann(), { Named::trt01_blanket_for_ref(&&x) }),
        "ref 5 ann"
    );
    assert_eq!(
        ctx::with!(ann(), { Loud::trt02_supertrait_default(&&x) }),
        "REF 5 ANN!"
    );
    assert_eq!(
        ctx::with!(ann(), { Loud::trt03_impl_trait_arg(&&x, 'c') }),
        "cann!"
    );
    assert_eq!(
        ctx::with!(ann(), { Loud::trt04_generic_method_turbofish::<u8>(&&x) }),
        "0ann"
    );
    let w = Words(vec!["a", "b"]);
    assert_eq!(
        ctx::with!(ann(), { Words::trt06_rpitit(&w).collect::<Vec<_>>() }),
        ["a-ann", "b-ann"]
    );
    assert_eq!(
        ctx::with!(ann(), { Pair::trt09_const_generic_impl(&Buf([1, 2])) }),
        "ann2"
    );
    assert_eq!(
        ctx::with!(ann(), { Buf::trt09_const_generic_impl(&Buf([1, 2, 3])) }),
        "ann3"
    );
    assert_eq!(
        ctx::with!(ann(), { Shared::trt10_ref_arc_self(&Arc::new(Shared)) }),
        "1 ann"
    );
    assert_eq!(
        ctx::with!(ann(), { Shared::trt11_method_generic::<bool>(&Shared) }),
        "falseann"
    );
    assert_eq!(
        ctx::with!(ann(), { Shared::trt12_calls_method_turbofish(&Shared) }),
        "0ann"
    );
    assert_eq!(
        ctx::with!(ann(), { trt14_impl_inside_fn_body() }),
        "local ann"
    );
    let rt = runtime();
    rt.block_on(async {
        assert_eq!(
            ann().scope((&x).trt05_async_default_body()).await,
            "later ann"
        );
        assert_eq!(
            ann().scope(w.trt07_async_required()).await,
            "2 words for ann"
        );
        assert_eq!(
            ann().scope(trt08_async_through_bound(&w)).await,
            "2 words for ann"
        );
        assert_eq!(
            ann()
                .scope(Shared.trt13_async_method_turbofish::<char>())
                .await,
            "'\\0'ann"
        );
        assert_eq!(ann().scope(trt15_calls_async_turbofish()).await, "0ann");
    });
}
