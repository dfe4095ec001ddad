module selfprog

go 1.19
