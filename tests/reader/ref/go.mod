module golat.test/reader/ref

go 1.19
