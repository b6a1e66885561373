fn main() {
    std::process::exit(planexec::cli::main())
}
