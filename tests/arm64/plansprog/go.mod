module arm64plansprog

go 1.19
