module example.com/exdemo

go 1.19
