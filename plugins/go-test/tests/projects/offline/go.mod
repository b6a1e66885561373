module example.com/offline

go 1.19

require example.org/nowhere/lib v1.0.0
