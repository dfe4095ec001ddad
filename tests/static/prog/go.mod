module staticprog

go 1.19
