// A method whose signature a foreign trait fixes cannot take the context.
ctx::keys! { pub user: String; }

struct Greeting;

impl std::fmt::Display for Greeting {
    #[ctx::propagate(user)]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "hello {}", *user)
    }
}

fn main() {}
