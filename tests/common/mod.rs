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

/// Appends `entry` to the `audit` key (an `append` key: the child's
/// additions to its snapshot come back).
#[ctx::propagate(mut audit)]
pub fn push(entry: String) {
    let mut v = audit.clone();
    v.push(entry);
    ctx::set!(audit, v);
}

/// The `audit` key's current value.
#[ctx::propagate(audit)]
pub fn audit_now() -> Vec<String> {
    audit.clone()
}
