module switchtest

go 1.19
