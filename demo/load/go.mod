module golat.demo/load

go 1.19
