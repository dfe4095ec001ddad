module tailprog

go 1.19
