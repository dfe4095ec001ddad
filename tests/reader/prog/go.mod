module golat.test/reader/prog

go 1.19
