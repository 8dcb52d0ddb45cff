// A propagated function cannot be `unsafe`.
ctx::keys! { pub user: String; }

#[ctx::propagate(user)]
unsafe fn raw(p: *const u8) -> u8 {
    unsafe { *p }
}

fn main() {}
