module analyzeprog

go 1.19
