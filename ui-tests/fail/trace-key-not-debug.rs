struct Token;

ctx::keys! {
    #[trace] pub token: Token;
}

fn main() {}
