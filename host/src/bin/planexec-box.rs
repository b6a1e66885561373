//! `planexec-box`: the small helper that builds the box around one program
//! and execs it (see planexec::confine::helper). Started by planexec only.

fn main() {
    planexec::confine::helper::main()
}
