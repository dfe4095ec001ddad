module golat.bench/overhead

go 1.19
