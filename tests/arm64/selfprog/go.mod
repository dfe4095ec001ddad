module arm64selfprog

go 1.19
