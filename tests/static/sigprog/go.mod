module sigprog

go 1.19
