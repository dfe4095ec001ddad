module golat.test/dwarfref

go 1.19
