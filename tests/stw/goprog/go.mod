module golat.test/stwprog

go 1.19
