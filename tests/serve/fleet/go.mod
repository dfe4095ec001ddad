module fleet

go 1.19
