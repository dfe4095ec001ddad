module golat.test/installprog

go 1.19
