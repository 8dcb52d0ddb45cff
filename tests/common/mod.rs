#![allow(dead_code)]

ctx::keys! {
    /// The authenticated user.
    pub user: String;
    pub request_id: u64;
    #[merge(append)] pub audit: Vec<String>;
    #[merge(keep)] pub first_seen: String;
    #[merge(with = crate::common::add)] pub total: u64;
}

pub fn add(parent: &mut u64, child: u64) {
    *parent += child;
}

#[derive(ctx::ContextFields, Clone, Debug, PartialEq)]
pub struct Req {
    pub user: String,
    pub request_id: u64,
    pub audit: Vec<String>,
    pub first_seen: String,
    pub total: u64,
}

pub fn req(u: &str, id: u64) -> Req {
    Req {
        user: u.into(),
        request_id: id,
        audit: Vec::new(),
        first_seen: "root".into(),
        total: 0,
    }
}

/// What the ambient mirror says about `user` right now.
pub fn ambient_user() -> Option<String> {
    ctx::current::<user>().map(|u| u.clone())
}
