use rayon::prelude::*;

ctx::keys! { pub user: String; }

#[ctx::propagate(mut user)]
fn rename(to: &str) {
    ctx::set!(user, to.to_string());
}

#[ctx::propagate(mut user)]
fn rename_all(names: &[&str]) {
    names.par_iter().for_each(|n| rename(n));
}

fn main() {}
