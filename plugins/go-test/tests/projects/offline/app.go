package app

import "example.org/nowhere/lib"

func Run() string { return lib.Name() }
