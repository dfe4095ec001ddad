module golat.test/argsprog

go 1.19
