// The verdict lines both hostile children print (included by each; not a program).
// ESCAPED exits 1: the attempt got through; CONTAINED exits 0: it was stopped.

fn escaped(what: String) -> ! {
    println!("ESCAPED: {what}");
    std::process::exit(1)
}

fn contained(what: String) -> ! {
    println!("CONTAINED: {what}");
    std::process::exit(0)
}
