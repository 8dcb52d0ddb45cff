//! Representative valid programs: generics, methods, traits, roots.
use std::fmt::Display;

ctx::keys! {
    pub user: Option<String>;
    pub request_id: u64;
    #[merge(append)] pub audit: Vec<String>;
}

#[derive(ctx::ContextFields)]
struct Req {
    user: Option<String>,
    #[ctx(key = request_id)]
    id: u64,
    audit: Vec<String>,
    #[ctx(skip)]
    _started: std::time::Instant,
}

#[ctx::propagate(user)]
fn greet<T: Display>(greeting: T) -> String {
    format!("{greeting} {}", user.as_deref().unwrap_or("anon"))
}

#[ctx::propagate(user, request_id)]
fn generic_where<'a, I>(items: I, sep: &'a str) -> String
where
    I: IntoIterator<Item = &'a str>,
{
    let v: Vec<&str> = items.into_iter().collect();
    format!("{}{sep}{}", v.join(sep), *request_id)
}

#[ctx::propagate(request_id)]
fn with_impl_arg(x: impl Into<u64>) -> u64 {
    x.into() + *request_id
}

trait Store {
    #[ctx::propagate(request_id)]
    fn key(&self) -> String;

    #[ctx::propagate(request_id)]
    fn default_key(&self) -> String {
        format!("default-{}", *request_id)
    }
}

struct Mem;

impl Store for Mem {
    #[ctx::propagate(request_id)]
    fn key(&self) -> String {
        format!("mem-{}", *request_id)
    }
}

struct Counter(u64);

impl Counter {
    #[ctx::propagate(request_id)]
    fn bump(&mut self) -> u64 {
        self.0 += *request_id;
        self.0
    }

    #[ctx::propagate(request_id)]
    fn into_inner(self) -> u64 {
        self.0
    }

    #[ctx::propagate(mut audit, request_id)]
    async fn record(&self, what: &str) -> Result<usize, String> {
        let mut a = audit.clone();
        a.push(format!("{what}:{}", *request_id));
        ctx::set!(audit, a);
        let n: u64 = "7".parse().map_err(|_| "bad".to_string())?;
        Ok(audit.len() + usize::try_from(n).unwrap())
    }
}

#[ctx::propagate(user, request_id, mut audit)]
async fn handler() -> Result<String, String> {
    let g = greet("hi");
    let s = generic_where(["a", "b"], "-");
    let n = with_impl_arg(2u8);
    let k = <Mem as Store>::key(&Mem);
    let d = Store::default_key(&Mem);
    let mut c = Counter(1);
    let b = Counter::bump(&mut c);
    let inner = Counter::into_inner(c);
    let r = Counter(0).record("x").await?;
    Ok(format!("{g}|{s}|{n}|{k}|{d}|{b}|{inner}|{r}"))
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
    let root = Req { user: Some("ann".into()), id: 5, audit: vec![], _started: std::time::Instant::now() };
    let out = rt.block_on(root.scope(handler())).unwrap();
    assert_eq!(out, "hi ann|a-b-5|7|mem-5|default-5|6|6|8");
}
