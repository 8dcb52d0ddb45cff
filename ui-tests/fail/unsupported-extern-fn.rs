ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
extern "C" fn handler() -> u32 { 1 }

fn main() {}
