module golat.test/serve

go 1.19
