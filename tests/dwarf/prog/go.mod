module golat.test/dwarfprog

go 1.19
